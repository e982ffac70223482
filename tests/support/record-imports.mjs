// Loaded with `node --import`: records every package a process imports (see import-hooks.mjs).
import { register } from 'node:module';

register('./import-hooks.mjs', import.meta.url);
