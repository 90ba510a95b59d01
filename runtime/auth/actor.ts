// Who a request acts for; its own module so the session and token services can both name it without importing each other.

/** The admin behind a request: signed in with a session (session_id) or with an API token (token_id, session_id null). */
export interface Actor { id: string; email: string; session_id: string | null; token_id?: string }
