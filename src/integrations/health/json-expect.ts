import { ownValue } from '../../config/own.js';

export type JsonExpectedValue = string | number | boolean;

const MAX_SHOWN_LENGTH = 60;

/**
 * Compares a parsed JSON body with `expect.json` and returns one readable problem per
 * mismatch (empty when all hold). A path segment "*" stands for every child of an object
 * or array, and requires at least one child, so an empty `dependencies: {}` cannot pass.
 */
export function checkJsonExpect(body: unknown, expectations: Readonly<Record<string, JsonExpectedValue>>): string[] {
  const problems: string[] = [];
  for (const [path, expected] of Object.entries(expectations)) {
    problems.push(...checkPath(body, path.split('.'), [], expected));
  }
  return problems;
}

function checkPath(value: unknown, rest: readonly string[], walked: readonly string[], expected: JsonExpectedValue): string[] {
  const [segment, ...remaining] = rest;
  if (segment === undefined) {
    return value === expected ? [] : [`${label(walked)} is ${show(value)}, expected ${show(expected)}`];
  }
  if (!isContainer(value)) {
    return [`${label(walked)} is ${show(value)}, expected an object or array`];
  }
  if (segment === '*') {
    const keys = Object.keys(value);
    if (keys.length === 0) return [`${label(walked)} is empty, expected at least one entry`];
    return keys.flatMap((key) => checkPath(childOf(value, key), remaining, [...walked, key], expected));
  }
  if (!Object.hasOwn(value, segment)) {
    return [`${label([...walked, ...rest])} is missing, expected ${show(expected)}`];
  }
  return checkPath(childOf(value, segment), remaining, [...walked, segment], expected);
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function childOf(container: object, key: string): unknown {
  return ownValue(container as Record<string, unknown>, key);
}

function label(path: readonly string[]): string {
  return path.length === 0 ? 'body' : path.join('.');
}

function show(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (isContainer(value)) return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_SHOWN_LENGTH ? `${text.slice(0, MAX_SHOWN_LENGTH - 1)}…` : text;
}
