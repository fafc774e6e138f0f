import { ComponentChildren } from 'preact';
import { ApiError } from '../lib/api';

export function Section(props: {
  title: string;
  id?: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  const headingId = `${props.id ?? props.title.toLowerCase().replace(/\W+/g, '-')}-heading`;
  return (
    <section class="panel" aria-labelledby={headingId} data-section={props.id}>
      <header class="panel-head">
        <h2 id={headingId}>{props.title}</h2>
        {props.actions && <div class="panel-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

/** Loading / error / empty states shared by every panel. */
export function Status(props: {
  loading?: boolean;
  error?: Error;
  empty?: boolean;
  emptyText?: string;
  notAvailable?: string;
}) {
  if (props.error) {
    const status = props.error instanceof ApiError ? props.error.status : undefined;
    if (status === 404 && props.notAvailable) {
      return (
        <p class="note" role="status">
          {props.notAvailable}
        </p>
      );
    }
    return (
      <p class="error" role="alert">
        {status ? `${status}: ` : ''}
        {props.error.message}
      </p>
    );
  }
  if (props.loading)
    return (
      <p class="note" aria-live="polite">
        Loading…
      </p>
    );
  if (props.empty) return <p class="note">{props.emptyText ?? 'Nothing to show.'}</p>;
  return null;
}

export function Field(props: {
  label: string;
  id: string;
  children: ComponentChildren;
  hint?: string;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint && <small class="hint">{props.hint}</small>}
    </div>
  );
}

export function Select(props: {
  id: string;
  label: string;
  value: string;
  options: readonly (string | { value: string; label: string })[];
  onChange: (value: string) => void;
}) {
  return (
    <Field label={props.label} id={props.id}>
      <select
        id={props.id}
        value={props.value}
        onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {props.options.map((o) => {
          const option = typeof o === 'string' ? { value: o, label: o } : o;
          return (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          );
        })}
      </select>
    </Field>
  );
}

export function TextInput(props: {
  id: string;
  label: string;
  value: string;
  placeholder?: string;
  type?: string;
  onChange: (value: string) => void;
  hint?: string;
  required?: boolean;
}) {
  return (
    <Field label={props.label} id={props.id} hint={props.hint}>
      <input
        id={props.id}
        type={props.type ?? 'text'}
        value={props.value}
        placeholder={props.placeholder}
        required={props.required}
        onInput={(e) => props.onChange((e.currentTarget as HTMLInputElement).value)}
      />
    </Field>
  );
}

/** Field errors from a 400 answer, next to the form that caused them. */
export function FormErrors(props: { error?: Error }) {
  if (!props.error) return null;
  const fields = props.error instanceof ApiError ? props.error.fields : [];
  return (
    <div class="error" role="alert">
      <p>{props.error.message}</p>
      {fields.length > 0 && (
        <ul>
          {fields.map((f) => (
            <li key={f.field}>
              <code>{f.field}</code>: {f.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
