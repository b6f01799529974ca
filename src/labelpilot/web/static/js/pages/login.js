// @ts-check
/** The login page: name and password, then back to where the visitor was going. */

import { api, ApiError } from '../api.js';
import { safeNext } from './session.js';

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

const form = /** @type {HTMLFormElement} */ (byId('login-form'));
const nameInput = /** @type {HTMLInputElement} */ (byId('name'));
const passwordInput = /** @type {HTMLInputElement} */ (byId('password'));
const button = /** @type {HTMLButtonElement} */ (byId('login-button'));
const errorBox = byId('login-error');

/** @param {string} message */
function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

/** @param {unknown} error */
function messageOf(error) {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'Wrong user name or password.';
    if (error.status === 422) return 'Enter your user name and password.';
    return `The server could not log you in (${error.status}): ${error.message}`;
  }
  return 'The server cannot be reached. Check your connection and try again.';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = nameInput.value.trim();
  const password = passwordInput.value;
  if (!name || !password) {
    showError('Enter your user name and password.');
    return;
  }
  button.disabled = true;
  errorBox.hidden = true;
  try {
    await api.login(name, password);
    location.assign(safeNext(new URLSearchParams(location.search).get('next')));
  } catch (error) {
    showError(messageOf(error));
    passwordInput.select();
    button.disabled = false;
  }
});
