import { start } from './start.js';

// The entry point: the API, the workers or both, as ROLE says.
start();
