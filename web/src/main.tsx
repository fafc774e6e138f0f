import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { AppContext, AppContextValue } from './context';
import { Capabilities, loadCapabilities, setApiToken } from './lib/api';
import { Session, TokenError, isAdmin, parseToken, takeTokenFromHash } from './lib/session';
import { VIEWS, ViewId, parseRoute, routeHref } from './lib/routes';
import { startStream } from './lib/stream';
import { STATUS_LABEL, StreamState, initialStreamState } from './lib/stream-state';
import { AlertsView } from './views/Alerts';
import { MoversView } from './views/Movers';
import { OperationsView } from './views/Operations';
import { PlatformsView } from './views/Platforms';
import { TrendsView } from './views/Trends';
import './styles.css';

const STORAGE_KEY = 'trend-service.token';

/** Token from `#token=` (then dropped from the address bar and history) or sessionStorage. */
function initialSession(): { session: Session | null; error?: string } {
  const { token, route } = takeTokenFromHash(window.location.hash);
  if (token !== undefined) {
    history.replaceState(
      null,
      '',
      `${window.location.pathname}${window.location.search}${route ? `#${route}` : ''}`,
    );
    try {
      const session = parseToken(token);
      sessionStorage.setItem(STORAGE_KEY, session.token);
      return { session };
    } catch (error) {
      return { session: null, error: (error as Error).message };
    }
  }
  const stored = sessionStorage.getItem(STORAGE_KEY);
  if (!stored) return { session: null };
  try {
    return { session: parseToken(stored) };
  } catch (error) {
    sessionStorage.removeItem(STORAGE_KEY);
    return { session: null, error: (error as Error).message };
  }
}

function SignIn(props: { error?: string; onSignIn: (session: Session) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState(props.error);
  const submit = (event: Event) => {
    event.preventDefault();
    try {
      props.onSignIn(parseToken(value));
    } catch (err) {
      setError(err instanceof TokenError ? err.message : 'The token cannot be read.');
    }
  };
  return (
    <main class="signin" id="main">
      <h1>trend-service dashboard</h1>
      <form onSubmit={submit} aria-describedby="signin-help">
        <label for="token">Access token (JWT)</label>
        <textarea
          id="token"
          rows={5}
          value={value}
          spellcheck={false}
          autocomplete="off"
          onInput={(e) => setValue((e.currentTarget as HTMLTextAreaElement).value)}
        />
        <p id="signin-help" class="hint">
          Paste a token with the <code>analyst</code> or <code>admin</code> role (
          <code>npm run token -- --sub you --role analyst</code>). It is kept in this tab's session
          storage only.
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

function LiveBadge(props: { state: StreamState }) {
  const { status, detail } = props.state;
  return (
    <span
      class={`live live-${status}`}
      role="status"
      aria-live="polite"
      data-testid="live-state"
      data-status={status}
      title={detail ?? ''}
    >
      <span class="dot" aria-hidden="true" />
      {STATUS_LABEL[status]}
    </span>
  );
}

function Shell(props: { session: Session; onSignOut: () => void }) {
  const [view, setView] = useState<ViewId>(() => parseRoute(window.location.hash));
  const [capabilities, setCapabilities] = useState<Capabilities | null>(null);
  const [stream, setStream] = useState<StreamState>(initialStreamState);
  const live = useMemo(() => new EventTarget(), []);

  useEffect(() => {
    const onHash = () => {
      setView(parseRoute(window.location.hash));
      // Screen readers and keyboards land on the new view, not on the nav link.
      document.getElementById('main')?.focus();
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    void loadCapabilities().then(setCapabilities);
  }, []);
  useEffect(() => {
    if (!capabilities) return;
    return startStream(capabilities.stream, setStream, (topic) =>
      live.dispatchEvent(new Event(topic)),
    );
  }, [capabilities, live]);

  const context: AppContextValue | null = capabilities
    ? { session: props.session, admin: isAdmin(props.session), capabilities, live }
    : null;
  const title = VIEWS.find((v) => v.id === view)?.label ?? '';
  useEffect(() => {
    document.title = `${title} · trend-service`;
  }, [title]);

  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          // the fragment is the view route here: focus instead of navigating
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <span class="brand">trend-service</span>
        <nav aria-label="Views">
          <ul>
            {VIEWS.map((v) => (
              <li key={v.id}>
                <a
                  href={routeHref(v.id)}
                  aria-current={v.id === view ? 'page' : undefined}
                  data-view={v.id}
                >
                  {v.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <LiveBadge state={stream} />
          <span class="user" data-testid="user">
            {props.session.subject} ({props.session.roles.join(', ')})
          </span>
          <button type="button" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1} data-view={view}>
        <h1>{title}</h1>
        {context ? (
          <AppContext.Provider value={context}>
            {view === 'trends' && <TrendsView />}
            {view === 'movers' && <MoversView />}
            {view === 'platforms' && <PlatformsView />}
            {view === 'alerts' && <AlertsView />}
            {view === 'operations' && <OperationsView />}
          </AppContext.Provider>
        ) : (
          <p class="note">Loading…</p>
        )}
      </main>
    </>
  );
}

function App() {
  const initial = useMemo(initialSession, []);
  const [session, setSession] = useState<Session | null>(initial.session);
  const [error, setError] = useState<string | undefined>(initial.error);

  const signOut = (reason?: string) => {
    sessionStorage.removeItem(STORAGE_KEY);
    setApiToken(null);
    setSession(null);
    setError(reason);
  };
  // The API's 401 (expired, revoked, wrong secret) sends the user back to sign-in.
  setApiToken(session?.token ?? null, () =>
    signOut('The service refused the token (401): sign in again.'),
  );

  useEffect(() => {
    if (!session?.expiresAt) return;
    const ms = session.expiresAt * 1000 - Date.now();
    const timer = setTimeout(
      () => signOut('The token has expired: sign in again.'),
      Math.min(Math.max(ms, 0), 2 ** 31 - 1),
    );
    return () => clearTimeout(timer);
  }, [session]);

  if (!session) {
    return (
      <SignIn
        error={error}
        onSignIn={(next) => {
          sessionStorage.setItem(STORAGE_KEY, next.token);
          setError(undefined);
          setSession(next);
        }}
      />
    );
  }
  return <Shell key={session.token} session={session} onSignOut={() => signOut()} />;
}

render(<App />, document.getElementById('app')!);
