// A camera URL may carry a password (rtsp://admin:secret@camera/stream): whatever shows or logs it must not.
// Up to the last @ before the path: a password may hold an @ of its own.
const URL_USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;

/** `text` with the user name and password of every URL in it replaced by `***` (`rtsp://***@camera/stream`). */
export function withoutCredentials(text: string): string {
  return text.replace(URL_USER_INFO, '$1***@');
}
