/**
 * Telling the user something happened: in-page toasts inside an `aria-live` region (errors as
 * `role="alert"`), and desktop notifications once the user has allowed them.
 */

/** Kind of a toast; it sets the colour and, for errors, an assertive announcement. */
export type ToastKind = 'info' | 'success' | 'error';

/** Toasts on screen at most; the oldest goes first. */
const MAX_TOASTS = 4;
/** How long a toast stays, in milliseconds (errors longer: they need reading). */
const TOAST_MS: Readonly<Record<ToastKind, number>> = { info: 6000, success: 6000, error: 12_000 };

/** Shows a toast in `region` (the page's `aria-live` container). */
export function showToast(region: HTMLElement, message: string, kind: ToastKind = 'info'): void {
  const toast = document.createElement('div');
  toast.className = `toast toast-${kind}`;
  if (kind === 'error') toast.setAttribute('role', 'alert');
  const text = document.createElement('p');
  text.textContent = message;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'toast-close';
  close.setAttribute('aria-label', 'Dismiss notification');
  close.textContent = '×';
  close.addEventListener('click', () => toast.remove());
  toast.append(text, close);
  region.append(toast);
  while (region.childElementCount > MAX_TOASTS) region.firstElementChild?.remove();
  const expire = (): void => {
    // Not while the user is reading it or about to dismiss it.
    if (toast.matches(':hover') || toast.contains(document.activeElement)) setTimeout(expire, 2000);
    else toast.remove();
  };
  setTimeout(expire, TOAST_MS[kind]);
}

/** True when this browser can show desktop notifications and the user has not decided yet. */
export function canAskForDesktopNotifications(): boolean {
  return typeof Notification === 'function' && Notification.permission === 'default';
}

/** Asks the user (call from a click); resolves true when allowed. */
export async function askForDesktopNotifications(): Promise<boolean> {
  if (typeof Notification !== 'function') return false;
  try {
    return (await Notification.requestPermission()) === 'granted';
  } catch {
    return false;
  }
}

/** Shows a desktop notification when the user allowed them; does nothing otherwise. */
export function showDesktopNotification(title: string, body: string, tag: string): void {
  if (typeof Notification !== 'function' || Notification.permission !== 'granted') return;
  try {
    const notification = new Notification(title, { body, tag });
    notification.addEventListener('click', () => {
      window.focus();
      notification.close();
    });
  } catch {
    // Android Chrome only allows notifications from a service worker: the toast is enough there.
  }
}
