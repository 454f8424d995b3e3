// Where the page gets its access token and meeting id: the token from the URL fragment
// (`#token=…`, which browsers never send to a server), else from a form that signs in
// with email and password (POST /v1/access_token, the password grant) or takes a pasted
// token; the meeting id from `?meetingId=…`, else from the same form.
const TOKEN_KEY = 'squared.meeting.token';

export interface Credentials {
  token: string;
  meetingId: string;
}

/** What the URL carries. The token leaves the address bar (a copied link must not carry it) but survives a reload in this tab. */
export function credentialsFromUrl(): Partial<Credentials> {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token') ?? undefined;
  if (fromFragment) {
    sessionStorage.setItem(TOKEN_KEY, fromFragment);
    history.replaceState(null, '', location.pathname + location.search);
  }
  const token = fromFragment ?? sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  const meetingId = new URLSearchParams(location.search).get('meetingId') ?? undefined;
  return { token, meetingId };
}

/** Shows the form for what is missing and resolves once it yields a token (and meeting id). */
export function askForCredentials(form: HTMLFormElement, known: Partial<Credentials>): Promise<Credentials> {
  const errorLine = form.querySelector<HTMLElement>('#sign-in-error')!;
  form.querySelector<HTMLElement>('#meeting-id-field')!.hidden = known.meetingId !== undefined;
  form.hidden = false;
  return new Promise((resolve) => {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const field = (name: string) => String(data.get(name) ?? '').trim();
      const meetingId = known.meetingId ?? field('meetingId');
      if (!meetingId) {
        errorLine.textContent = 'Enter the meeting id.';
        return;
      }
      errorLine.textContent = '';
      tokenFrom(field('token'), field('email'), String(data.get('password') ?? '')).then(
        (token) => {
          sessionStorage.setItem(TOKEN_KEY, token);
          form.hidden = true;
          resolve({ token, meetingId });
        },
        (err: Error) => (errorLine.textContent = err.message),
      );
    });
  });
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

async function tokenFrom(pasted: string, email: string, password: string): Promise<string> {
  if (pasted) return pasted;
  if (!email || !password) throw new Error('Enter your email and password, or an access token.');
  const response = await fetch('/v1/access_token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: email, password }),
  });
  const body = (await response.json().catch(() => ({}))) as { access_token?: string; error_description?: string; message?: string };
  if (!response.ok || !body.access_token) throw new Error(body.error_description ?? body.message ?? `Sign-in failed (${response.status}).`);
  return body.access_token;
}
