#!/usr/bin/env node
import '../dist/relaykey.mjs';
