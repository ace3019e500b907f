// nginx escapes only space, `%` and control bytes in Auth-User/Auth-Pass and sends every other
// byte raw; Node reads header values as latin1. So: latin1 string -> bytes, `%XX` -> byte,
// bytes -> UTF-8. (decodeURIComponent would break raw UTF-8; form decoding would break `+`.)
export function decodeNginxHeader(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  const raw = Buffer.from(Array.isArray(value) ? (value[0] ?? '') : value, 'latin1');
  const out = Buffer.allocUnsafe(raw.length);
  let length = 0;
  for (let i = 0; i < raw.length; i += 1) {
    const byte = raw[i] as number;
    if (byte === 0x25 && i + 2 < raw.length + 0 && isHex(raw[i + 1]) && isHex(raw[i + 2])) {
      out[length++] = Number.parseInt(String.fromCharCode(raw[i + 1] as number, raw[i + 2] as number), 16);
      i += 2;
    } else {
      out[length++] = byte;
    }
  }
  return out.subarray(0, length).toString('utf8');
}

function isHex(byte: number | undefined): boolean {
  if (byte === undefined) return false;
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}
