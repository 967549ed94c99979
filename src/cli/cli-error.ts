/** A failure the CLI reports as `error: message` (nothing when empty) and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
