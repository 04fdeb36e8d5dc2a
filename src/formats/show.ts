// Values for people and for JSON Lines: bigints (integers beyond 2^53) written as their digits, and long values
// shortened for the terminal (the full value stays in results.json and the history).
import { stringify } from 'lossless-json';

/** JSON text of a value; bigints are written as plain integers, so nothing is rounded. */
export function exactJson(value: unknown): string {
  return stringify(value) ?? 'null';
}

/** The JSON text of a value, cut to `max` characters with the full length said. */
export function showValue(value: unknown, max = 200): string {
  return truncateText(exactJson(value), max);
}

export function truncateText(text: string, max = 200): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length.toLocaleString('en')} characters)`;
}
