import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

interface Props {
  /** The question, which also names the dialog: "Deactivate 14 people?". */
  title: string;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  /** False while a choice inside the dialog is still missing. */
  ready?: boolean;
  onConfirm: () => void;
  onClose: () => void;
  children?: ComponentChildren;
}

/** A modal question with one button that does it and one that does not; Escape cancels. */
export function ConfirmDialog(props: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
    // Focus on the harmless choice: Enter by habit does nothing it cannot take back.
    cancel.current?.focus();
  }, []);
  return (
    <dialog
      ref={dialog}
      class="confirm"
      aria-labelledby="confirm-title"
      onClose={props.onClose}
      onCancel={props.onClose}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          props.onConfirm();
        }}
      >
        <h2 id="confirm-title">{props.title}</h2>
        {props.children}
        <div class="actions">
          <button
            type="submit"
            class={props.danger ? 'primary danger-fill' : 'primary'}
            disabled={props.busy === true || props.ready === false}
          >
            {props.confirmLabel}
          </button>
          <button type="button" ref={cancel} onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
