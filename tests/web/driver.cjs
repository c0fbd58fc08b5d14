// driver.cjs: drives Debian's Chromium, headless, for tests/web/test_web_page.py through
// playwright-core (pinned in package.json, installed by scripts/deps.sh with npm ci;
// Playwright's own browser downloads are never used). The Python test starts it and
// sends one JSON command per line on standard input; each gets one JSON line back on
// standard output: {"ok": true, "value": ...} or {"ok": false, "error": "..."}. What
// the page logs to its console goes to standard error, which ends up in the test log.
//
// Commands: launch {timezoneId, locale}, goto {url}, fill {selector, value},
// click {selector}, evaluate {expression}, screenshot {path}, close.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

const modules = process.env.CALPUBSUB_NODE_MODULES || path.join(__dirname, '..', '..', 'node_modules');
const { chromium } = require(path.join(modules, 'playwright-core'));

// Playwright adds --headless itself. Without the networking flags Chromium keeps trying
// to reach Google's services, and on machines with no route out those connections fail
// by the dozen.
const CHROMIUM_ARGS = [
    '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-quic', '--disable-default-apps',
    '--disable-extensions', '--no-default-browser-check',
    // The private servers listen on 127.0.0.1 only; ejabberd's page is at
    // http://localhost:PORT/ (its file server wants a virtual host's name): never try ::1.
    '--host-resolver-rules=MAP localhost 127.0.0.1',
];

let context = null;
let page = null;
let profile = null;

const commands = {
    async launch({ timezoneId, locale }) {
        profile = fs.mkdtempSync(path.join(os.tmpdir(), 'calpubsub-chromium-'));
        // A persistent context gets the fresh, empty --user-data-dir above.
        context = await chromium.launchPersistentContext(profile, {
            executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
            headless: true,
            args: CHROMIUM_ARGS,
            timezoneId,
            locale,
            viewport: { width: 1200, height: 900 },
        });
        page = context.pages()[0] || await context.newPage();
        page.on('console', (m) => process.stderr.write('[page ' + m.type() + '] ' + m.text() + '\n'));
        page.on('pageerror', (e) => process.stderr.write('[page error] ' + e.message + '\n'));
        return context.browser() ? context.browser().version() : 'chromium';
    },
    async goto({ url }) {
        const response = await page.goto(url, { waitUntil: 'load' });
        return response ? response.status() : null;
    },
    async fill({ selector, value }) {
        await page.fill(selector, value, { timeout: 5000 });
    },
    async click({ selector }) {
        await page.click(selector, { timeout: 5000 });
    },
    async evaluate({ expression }) {
        return page.evaluate(expression);
    },
    async screenshot({ path: file }) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        await page.screenshot({ path: file, fullPage: true });
    },
    async close() {
        if (context) await context.close();
        context = null;
        if (profile) fs.rmSync(profile, { recursive: true, force: true });
        profile = null;
    },
};

async function main() {
    const lines = readline.createInterface({ input: process.stdin });
    for await (const line of lines) {
        if (!line.trim()) continue;
        let reply;
        try {
            const cmd = JSON.parse(line);
            const value = await commands[cmd.op](cmd);
            reply = { ok: true, value: value === undefined ? null : value };
        } catch (err) {
            reply = { ok: false, error: String(err && err.stack ? err.stack : err) };
        }
        process.stdout.write(JSON.stringify(reply) + '\n');
    }
    await commands.close();
}

main().catch((err) => {
    process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
    process.exit(1);
});
