// @ts-check
/**
 * The one HTTP client of the pages: JSON in and out, the session cookie, the CSRF header on unsafe
 * requests, and one error type. Paths are URL paths of the API (`/api/tasks/7`); a path without the
 * `/api` prefix (`/tasks/7`) gets it, so callers may write either.
 */

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CSRF_HEADER = 'X-CSRF-Token';

/** An HTTP answer outside 2xx: `status`, and `body` the parsed JSON error (409: `body.current`). */
export class ApiError extends Error {
  /** @type {number} */ status;
  /** @type {any} */ body;

  /**
   * @param {number} status
   * @param {any} body
   * @param {string} [message]
   */
  constructor(status, body, message) {
    super(message ?? (body && typeof body.error === 'string' ? body.error : `HTTP ${status}`));
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

/**
 * @typedef {{signal?: AbortSignal}} RequestOptions
 */

/** @param {Response} response */
async function readBody(response) {
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('application/json')) return response.json();
  const text = await response.text();
  return text === '' ? null : { error: text };
}

export class Api {
  /** @param {string} [base] origin (and prefix) the paths are relative to; '' = this page's origin */
  constructor(base = '') {
    this.base = base;
    /** @type {string | null} the session's CSRF token, from login() or me() */
    this.csrfToken = null;
  }

  /** @param {string} path */
  url(path) {
    const absolute = path.startsWith('/') ? path : `/${path}`;
    const apiPath = absolute === '/api' || absolute.startsWith('/api/') ? absolute : `/api${absolute}`;
    return this.base + apiPath;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body] sent as JSON when given
   * @param {RequestOptions} [options]
   * @returns {Promise<Response>} a 2xx response (anything else throws ApiError)
   */
  async send(method, path, body, options = {}) {
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json' };
    if (UNSAFE.has(method)) {
      if (this.csrfToken === null && !path.endsWith('/auth/login')) await this.me();
      if (this.csrfToken) headers[CSRF_HEADER] = this.csrfToken;
    }
    /** @type {RequestInit} */
    const init = { method, headers, credentials: 'same-origin', signal: options.signal };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(this.url(path), init);
    if (!response.ok) throw new ApiError(response.status, await readBody(response));
    return response;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @param {RequestOptions} [options]
   * @returns {Promise<any>} the parsed JSON answer (null for 204)
   */
  async json(method, path, body, options) {
    return readBody(await this.send(method, path, body, options));
  }

  /**
   * Log in with a session cookie; keeps the CSRF token for later unsafe requests.
   * @param {string} name
   * @param {string} password
   * @returns {Promise<import('./types.js').LoginAnswer>}
   */
  async login(name, password) {
    const answer = await this.json('POST', '/api/auth/login', { name, password });
    this.csrfToken = answer.csrf_token;
    return answer;
  }

  /** End the session (the cookie is cleared by the server). */
  async logout() {
    try {
      await this.json('POST', '/api/auth/logout');
    } finally {
      this.csrfToken = null;
    }
  }

  /**
   * The logged-in user; restores the CSRF token after a page reload. Throws ApiError 401 when logged out.
   * @returns {Promise<import('./types.js').LoginAnswer>}
   */
  async me() {
    const answer = await this.json('GET', '/api/auth/me');
    this.csrfToken = answer.csrf_token || null;
    return answer;
  }

  /**
   * @param {string} path
   * @param {RequestOptions} [options]
   * @returns {Promise<any>}
   */
  get(path, options) {
    return this.json('GET', path, undefined, options);
  }

  /**
   * @param {string} path
   * @param {unknown} [body] default: an empty object
   * @returns {Promise<any>}
   */
  post(path, body = {}) {
    return this.json('POST', path, body);
  }

  /**
   * @param {string} path
   * @param {unknown} body
   * @returns {Promise<any>}
   */
  put(path, body) {
    return this.json('PUT', path, body);
  }

  /**
   * @param {string} path
   * @param {unknown} body
   * @returns {Promise<any>}
   */
  patch(path, body) {
    return this.json('PATCH', path, body);
  }

  /**
   * DELETE; parameters such as `expected_version` go in the query string.
   * @param {string} path
   * @returns {Promise<any>}
   */
  del(path) {
    return this.json('DELETE', path);
  }

  /**
   * A binary payload, e.g. a lidar sweep (N x 4 little-endian float32).
   * @param {string} path
   * @param {RequestOptions} [options]
   * @returns {Promise<ArrayBuffer>}
   */
  async binary(path, options = {}) {
    /** @type {RequestInit} */
    const init = { credentials: 'same-origin', signal: options.signal };
    const response = await fetch(this.url(path), init);
    if (!response.ok) throw new ApiError(response.status, await readBody(response));
    return response.arrayBuffer();
  }
}

export const api = new Api();
