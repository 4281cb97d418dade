#!/usr/bin/env node
// Runs the TypeScript CLI directly; the project ships its sources, not a build.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
