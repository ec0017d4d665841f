// A camera URL may carry a password (rtsp://admin:secret@camera/stream): whatever shows or logs it must not.
const URL_USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** `text` with the user name and password of every URL in it replaced by `***` (`rtsp://***@camera/stream`). */
export function withoutCredentials(text: string): string {
  return text.replace(URL_USER_INFO, '$1***@');
}
