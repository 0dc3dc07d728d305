// SPDX-License-Identifier: MIT
//
// Loaded before every test file (vitest setupFiles): what a test started
// with run() does not outlive it, even when the test failed or timed out.
import { afterEach } from 'vitest';
import { killRunning } from './process.js';

afterEach(() => killRunning());
