// @ts-check
/**
 * What every page does with the login session: where to go after logging in, and logging out.
 * The server sends a logged-out visitor of `/` or `/editor` to `/login?next=...` before any script runs.
 */

import { api as defaultApi } from '../api.js';

export const LOGIN_PATH = '/login';
export const HOME_PATH = '/';

/**
 * A `next` target only when it is a path of this site (never `//host` or a scheme), else the home page.
 * @param {string | null} value
 * @returns {string}
 */
export function safeNext(value) {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return HOME_PATH;
  return value;
}

/**
 * The login page, coming back to `next` (default: this page) afterwards.
 * @param {string} [next]
 */
export function goToLogin(next = location.pathname + location.search) {
  const query = next === HOME_PATH ? '' : `?${new URLSearchParams({ next })}`;
  location.assign(LOGIN_PATH + query);
}

/**
 * End the session and show the login page; a session that is already gone counts as logged out.
 * @param {import('../api.js').Api} [client]
 */
export async function logout(client = defaultApi) {
  try {
    await client.logout();
  } catch {
    // 401: already logged out; anything else: the cookie may linger, but the login page is still right.
  }
  location.assign(LOGIN_PATH);
}

/**
 * Wire a "Log out" button.
 * @param {HTMLElement | null} button
 * @param {import('../api.js').Api} [client]
 */
export function bindLogout(button, client = defaultApi) {
  button?.addEventListener('click', () => {
    void logout(client);
  });
}
