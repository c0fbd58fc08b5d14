// calendar.js: the calpubsub reference web client. It logs in to the XMPP server over
// BOSH with Strophe.js, finds the PubSub service and its calendar nodes by service
// discovery, subscribes to one calendar, shows a week of its events (recurrences
// expanded by calpubsub through a CalDAV time-range query with <expand/>), and keeps
// that week up to date from the notifications calpubsub pushes, without polling.
//
// Read it top to bottom; each part says what it does and why:
//   1. settings and state       5. the week query and xCal (RFC 6321) parsing
//   2. the page's messages      6. notifications: what calpubsub pushes
//   3. connecting, reconnecting 7. the agenda: dates in the browser's time zone
//   4. IQs, discovery, subscribe 8. wiring the page up
//
// Copying it: it needs nothing but vendor/strophe.esm.js beside it and an XMPP server
// with BOSH on the same origin (or one that allows this origin: see the README).
// Server data only ever reaches the page as text (textContent), never as HTML.

import { Strophe, $iq, $pres } from './vendor/strophe.esm.js';

const NS = {
    DISCO_INFO: 'http://jabber.org/protocol/disco#info',
    DISCO_ITEMS: 'http://jabber.org/protocol/disco#items',
    PUBSUB: 'http://jabber.org/protocol/pubsub',
    PUBSUB_EVENT: 'http://jabber.org/protocol/pubsub#event',
    STANZAS: 'urn:ietf:params:xml:ns:xmpp-stanzas',
    STREAM: 'http://etherx.jabber.org/streams',
    STREAM_ERRORS: 'urn:ietf:params:xml:ns:xmpp-streams',
    DATA_FORMS: 'jabber:x:data',
    RSM: 'http://jabber.org/protocol/rsm',
    XCAL: 'urn:ietf:params:xml:ns:icalendar-2.0',
    CALDAV: 'urn:ietf:params:xml:ns:caldav',
    DAV: 'DAV:',
    // what calpubsub's disco#info shows for a node that holds a calendar
    CALENDAR_FEATURE: 'urn:xmpp:tmp:calendar:0',
};

// Strophe.js logs every BOSH request at DEBUG: set DEBUG here to watch them in the
// browser's console.
Strophe.setLogLevel(Strophe.LogLevel.WARN);

const DAYS_SHOWN = 7;
const IQ_TIMEOUT_MS = 15000;
const RECONNECT_MAX_S = 30;

// ---------------------------------------------------------------------------------
// 1. Settings (from the query string and the form) and the page's state
// ---------------------------------------------------------------------------------

const params = new URLSearchParams(window.location.search);
const $ = (id) => document.getElementById(id);

const state = {
    conn: null,           // the current Strophe.Connection; a new one for every attempt
    jid: '',
    password: '',         // kept in memory only, to log in again after a lost connection
    wantOnline: false,    // false after "Log out" or a refused password: no reconnecting
    attempt: 0,           // reconnect attempts since the last successful login
    reconnectTimer: null,
    lastProblem: '',      // why the last connection failed, in words
    streamError: '',      // the stream error that ended the current connection, if any
    service: '',          // the PubSub service's JID
    calendars: [],        // [{node, title, description}] from service discovery
    node: params.get('node') || '',
    subscription: '',     // 'subscribed', 'pending', 'unconfigured' or ''
    from: parseDayParam(params.get('from')) || startOfDay(new Date()),
    occurrences: [],      // what the last query returned, see parseOccurrences()
    queryGeneration: 0,   // answers to older queries (previous week, older connection) are dropped
    refreshing: false,
    refreshAgain: false,
    readFailed: false,    // the last read failed: its error is on the page
    seenNotifications: new Set(), // notification ids: a redelivered one is ignored
    flash: new Set(),     // uids pushed since the last read, highlighted when drawn
};

// ---------------------------------------------------------------------------------
// 2. What the person sees: the connection state, errors, notices
// ---------------------------------------------------------------------------------

// state: offline, connecting, online, reconnecting or error (style.css colours them)
function setStatus(kind, text) {
    const el = $('status');
    el.dataset.state = kind;
    el.textContent = text;
    document.body.dataset.connection = kind;
}

function showError(text) {
    const el = $('error');
    el.textContent = text;
    el.hidden = !text;
}

function showNotice(text) {
    $('notice').textContent = text || '';
    $('notice').hidden = !text;
}

// The login form, or, once logged in, who is logged in and "Log out".
function showSession(on) {
    $('login').dataset.session = on ? 'on' : 'off';
    $('login').querySelector('h2').textContent = on ? 'Session' : 'Log in';
    $('whoami').textContent = on ? 'Logged in as ' + state.jid + '.' : '';
    $('whoami').hidden = !on;
    $('login-button').hidden = on;
    $('logout-button').hidden = !on;
}

function logActivity(text) {
    const li = document.createElement('li');
    const time = document.createElement('time');
    time.textContent = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' }).format(new Date());
    li.append(time, ' ', text);
    const list = $('activity');
    list.prepend(li);
    while (list.children.length > 30) list.lastChild.remove();
}

// ---------------------------------------------------------------------------------
// 3. Connecting over BOSH, and reconnecting after a lost connection
// ---------------------------------------------------------------------------------

function boshUrl() {
    // Relative URLs are resolved against the page: "/http-bind" is the BOSH endpoint of
    // the XMPP server that serves this page (Prosody's default path; ejabberd's
    // mod_bosh is at /bosh in Debian's configuration: map /http-bind to it too, as
    // the README shows, or pass ?bosh=/bosh). Another origin needs CORS on that server.
    const text = $('bosh').value.trim() || params.get('bosh') || '/http-bind';
    return new URL(text, window.location.href).href;
}

function login() {
    state.jid = $('jid').value.trim();
    state.password = $('password').value;
    if (!state.jid.includes('@')) {
        showError('Enter a Jabber ID such as alice@example.org.');
        return;
    }
    state.wantOnline = true;
    state.attempt = 0;
    showError('');
    connect();
}

function logout() {
    state.wantOnline = false;
    state.password = '';
    clearTimeout(state.reconnectTimer);
    $('reconnect-now').hidden = true;
    if (state.conn) state.conn.disconnect('logged out');
    else onOffline();
}

function connect() {
    clearTimeout(state.reconnectTimer);
    $('reconnect-now').hidden = true;
    if (state.conn) dropConnection();
    const url = boshUrl();
    const conn = new Strophe.Connection(url);
    state.conn = conn;
    state.lastProblem = '';
    state.streamError = '';
    // A BOSH server that ends a session because of a stream error says only
    // condition='remote-stream-error' on the <body/>, with the <stream:error/> inside it
    // (ejabberd does so when it shuts down: system-shutdown). Strophe passes on just that
    // condition; keep the stream error's own, to say what happened. Prosody shutting
    // down just closes its connections.
    conn.xmlInput = (el) => {
        if (conn === state.conn) state.streamError = streamErrorOf(el) || state.streamError;
    };
    // The BOSH endpoint not answering at all (status 0: refused, reset, no route) or a
    // proxy in front of it failing (5xx): Strophe would retry the same request for
    // minutes with growing delays. Give up on this connection at once instead and
    // reconnect on our own schedule, telling the person what happened.
    for (const code of [0, 500, 502, 503, 504]) {
        conn.addProtocolErrorHandler('HTTP', code, () => {
            if (conn !== state.conn) return;
            state.lastProblem = code === 0
                ? 'The XMPP server does not answer at ' + url + '.'
                : 'The BOSH endpoint ' + url + ' answered HTTP ' + code + '.';
            dropConnection();
            onOffline();
        });
    }
    for (const code of [400, 403, 404]) {
        conn.addProtocolErrorHandler('HTTP', code, () => {
            if (conn === state.conn) {
                state.lastProblem = 'The BOSH endpoint ' + url + ' answered HTTP ' + code + ': check the BOSH URL.';
            }
        });
    }
    setStatus('connecting', 'Connecting to ' + url + ' …');
    conn.connect(state.jid, state.password, (status, condition) => {
        if (conn === state.conn) onConnectionStatus(conn, status, condition);
    });
}

// Forgets a connection: its late callbacks are ignored from now on, and Strophe closes
// it in the background (after at most its disconnection timeout when the server is
// gone).
function dropConnection() {
    const conn = state.conn;
    state.conn = null;
    if (conn) setTimeout(() => conn.disconnect('dropped'), 0);
}

// Strophe's connection states, one by one, turned into words for the person.
function onConnectionStatus(conn, status, condition) {
    const S = Strophe.Status;
    switch (status) {
    case S.CONNECTING:
        setStatus('connecting', 'Connecting to ' + boshUrl() + ' …');
        break;
    case S.AUTHENTICATING:
        setStatus('connecting', 'Logging in as ' + state.jid + ' …');
        break;
    case S.AUTHFAIL:
        // A wrong password stays wrong: ask the person instead of retrying.
        state.wantOnline = false;
        state.password = '';
        state.lastProblem = 'Login refused: wrong Jabber ID or password' + (condition ? ' (' + condition + ')' : '') + '.';
        showError(state.lastProblem);
        setStatus('error', 'Not logged in.');
        break;
    case S.CONNFAIL:
    case S.CONNTIMEOUT:
    case S.ERROR:
        if (condition === 'remote-stream-error' && state.streamError) condition = state.streamError;
        state.lastProblem = state.lastProblem || describeConnectionFailure(status, condition);
        break;
    case S.CONNECTED:
        onOnline(conn);
        break;
    case S.DISCONNECTED:
        onOffline();
        break;
    default:
        break;
    }
}

// The condition of the stream error in a BOSH <body type='terminate'/>, or ''. Strophe
// hands xmlInput() the body's first child when it has children, else the body.
function streamErrorOf(el) {
    const body = el.localName === 'body' ? el : el.parentNode;
    if (!body || body.localName !== 'body' || body.getAttribute('type') !== 'terminate') return '';
    const err = body.getElementsByTagNameNS(NS.STREAM, 'error')[0];
    const cond = err && Array.from(err.children)
        .find((c) => c.namespaceURI === NS.STREAM_ERRORS && c.localName !== 'text');
    return cond ? cond.localName : '';
}

function describeConnectionFailure(status, condition) {
    const why = {
        'host-unknown': 'The XMPP server does not serve the domain of ' + state.jid + '.',
        'item-not-found': 'The XMPP server no longer knows this session (it restarted, or the session timed out).',
        'remote-connection-failed': 'The BOSH endpoint could not reach the XMPP server.',
        'system-shutdown': 'The XMPP server is shutting down.',
        'giving-up': 'The XMPP server does not answer at ' + boshUrl() + '.',
        'bad-service': 'The BOSH URL is not a BOSH endpoint.',
        'conflict': 'Another session replaced this one.',
        'policy-violation': 'The XMPP server closed the session (policy-violation).',
    }[condition];
    if (why) return why;
    if (status === Strophe.Status.CONNTIMEOUT) return 'The connection timed out.';
    return 'The connection failed' + (condition ? ' (' + condition + ')' : '') + '.';
}

function onOnline(conn) {
    state.attempt = 0;
    state.jid = Strophe.getBareJidFromJid(conn.jid);
    showError('');
    showSession(true);
    $('password').value = '';
    // Notifications come as <message/>s from the service (section 6).
    conn.addHandler((msg) => { onMessage(msg); return true; }, null, 'message');
    // Available presence: the server delivers messages sent to the bare JID (where the
    // subscription points) only to resources that are online.
    conn.send($pres());
    setStatus('online', 'Connected as ' + state.jid + '.');
    startSession(conn);
}

// Finds the calendars and opens one; if the service does not answer (calpubsub is
// restarting, say), tries again every 5 seconds while the connection lasts.
function startSession(conn) {
    afterLogin(conn).catch((err) => {
        if (conn !== state.conn) return;
        showError((err instanceof XmppError
            ? 'Could not list the calendars of ' + (state.service || 'the PubSub service') + ': ' + err.message + '.'
            : String(err.message || err)) + ' Trying again in 5 s.');
        setTimeout(() => { if (conn === state.conn) startSession(conn); }, 5000);
    });
}

function onOffline() {
    state.conn = null;
    // IQs in flight on the lost connection never get an answer: forget them.
    state.refreshing = false;
    state.refreshAgain = false;
    state.queryGeneration += 1;
    state.subscription = '';
    renderSubscription();
    document.body.dataset.stale = 'true';
    if (!state.wantOnline) {
        // Logged out: nothing of the account stays on the page.
        showSession(false);
        state.calendars = [];
        state.occurrences = [];
        renderCalendars();
        renderAgenda();
        if ($('status').dataset.state !== 'error') setStatus('offline', 'Logged out.');
        return;
    }
    scheduleReconnect(state.lastProblem || 'The connection was lost.');
}

// Capped exponential backoff with jitter: about 1, 2, 4, 8, 16, 30, 30 ... seconds, so
// that a server coming back is not flooded by every page at once.
function scheduleReconnect(reason) {
    state.attempt += 1;
    const base = Math.min(RECONNECT_MAX_S, 2 ** (state.attempt - 1));
    const delay = base * (0.8 + Math.random() * 0.4);
    const due = Date.now() + delay * 1000;
    const tick = () => {
        const left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
        setStatus('reconnecting', reason + ' Reconnecting in ' + left + ' s (attempt ' + state.attempt +
            '); the week below may be out of date.');
        if (Date.now() >= due) connect();
        else state.reconnectTimer = setTimeout(tick, Math.min(1000, due - Date.now()));
    };
    $('reconnect-now').hidden = false;
    tick();
}

// ---------------------------------------------------------------------------------
// 4. IQs, service discovery and the subscription
// ---------------------------------------------------------------------------------

// An IQ error, with the parts an application looks at: type (cancel, auth, wait ...),
// the RFC 6120 condition, XEP-0060's application condition, and the server's text.
class XmppError extends Error {
    constructor(stanza) {
        const err = stanza && stanza.getElementsByTagName('error')[0];
        let condition = stanza ? 'undefined-condition' : 'timeout';
        let app = '';
        let text = '';
        for (const child of err ? err.children : []) {
            if (child.namespaceURI === NS.STANZAS && child.localName === 'text') text = child.textContent;
            else if (child.namespaceURI === NS.STANZAS) condition = child.localName;
            else app = child.localName;
        }
        super(condition + (app ? ' (' + app + ')' : '') + (text ? ': ' + text : ''));
        this.type = err ? err.getAttribute('type') : 'wait';
        this.condition = condition;
        this.app = app;
        this.text = text;
    }
}

// Strophe's sendIQ() with callbacks, as a promise of the result stanza. flush() sends
// it now rather than at Strophe's next idle tick (up to 100 ms later).
function sendIQ(conn, iq) {
    return new Promise((resolve, reject) => {
        conn.sendIQ(iq, resolve, (stanza) => reject(new XmppError(stanza)), IQ_TIMEOUT_MS);
        conn.flush();
    });
}

function directChildren(el, ns, name) {
    return Array.from(el ? el.children : []).filter((c) => c.namespaceURI === ns && c.localName === name);
}

async function afterLogin(conn) {
    state.service = await findService(conn);
    state.calendars = await listCalendars(conn, state.service);
    renderCalendars();
    if (!state.node && state.calendars.length) state.node = state.calendars[0].node;
    if (state.node) await openCalendar(conn, state.node);
}

// The PubSub service: the "service" setting, else the first item of the server's
// disco#items whose disco#info says pubsub/service (calpubsub also says it holds
// calendars). ejabberd lists its components there while they are connected; Prosody
// lists what its disco_items setting names, connected or not (a component that is not
// connected then does not answer its disco#info).
async function findService(conn) {
    const configured = $('service').value.trim() || params.get('service');
    if (configured) return configured;
    const domain = Strophe.getDomainFromJid(state.jid);
    const items = await sendIQ(conn, $iq({ type: 'get', to: domain }).c('query', { xmlns: NS.DISCO_ITEMS }));
    const jids = Array.from(items.getElementsByTagNameNS(NS.DISCO_ITEMS, 'item'), (i) => i.getAttribute('jid'));
    const infos = await Promise.all(jids.map((jid) =>
        sendIQ(conn, $iq({ type: 'get', to: jid }).c('query', { xmlns: NS.DISCO_INFO })).catch(() => null)));
    let best = '';
    const silent = [];
    infos.forEach((info, i) => {
        if (!info) {
            silent.push(jids[i]);
            return;
        }
        const pubsub = Array.from(info.getElementsByTagNameNS(NS.DISCO_INFO, 'identity'))
            .some((id) => id.getAttribute('category') === 'pubsub' && id.getAttribute('type') === 'service');
        const calendars = Array.from(info.getElementsByTagNameNS(NS.DISCO_INFO, 'feature'))
            .some((f) => f.getAttribute('var') === NS.CALENDAR_FEATURE);
        if (pubsub && (calendars || !best)) best = jids[i];
    });
    if (!best) {
        // Nothing answered as a PubSub service: calpubsub is not connected (ejabberd then
        // does not list it, Prosody lists it but it does not answer), or the server does
        // not list it at all.
        throw new Error('No PubSub service found on ' + domain +
            (silent.length ? ' (' + silent.join(', ') + ' did not answer)' : '') +
            ': is calpubsub running? If it is, set it under "Server", or list it in the server\'s disco#items.');
    }
    $('service').value = best;
    return best;
}

// The calendars: the service's nodes (disco#items) whose disco#info has the calendar
// feature. A node the user may not see is not listed by calpubsub at all.
async function listCalendars(conn, service) {
    const items = await sendIQ(conn, $iq({ type: 'get', to: service }).c('query', { xmlns: NS.DISCO_ITEMS }));
    const nodes = Array.from(items.getElementsByTagNameNS(NS.DISCO_ITEMS, 'item'))
        .map((i) => i.getAttribute('node')).filter(Boolean);
    const infos = await Promise.all(nodes.map((node) =>
        sendIQ(conn, $iq({ type: 'get', to: service }).c('query', { xmlns: NS.DISCO_INFO, node }))
            .catch(() => null)));
    const calendars = [];
    infos.forEach((info, i) => {
        if (!info) return;
        const features = Array.from(info.getElementsByTagNameNS(NS.DISCO_INFO, 'feature'), (f) => f.getAttribute('var'));
        if (!features.includes(NS.CALENDAR_FEATURE)) return;
        const meta = formValues(info);
        calendars.push({ node: nodes[i], title: meta['pubsub#title'] || nodes[i], description: meta['pubsub#description'] || '' });
    });
    calendars.sort((a, b) => a.title.localeCompare(b.title));
    return calendars;
}

// The fields of the first data form (XEP-0004) in el, as {var: first value}.
function formValues(el) {
    const out = {};
    const form = el.getElementsByTagNameNS(NS.DATA_FORMS, 'x')[0];
    for (const field of form ? form.getElementsByTagNameNS(NS.DATA_FORMS, 'field') : []) {
        const value = field.getElementsByTagNameNS(NS.DATA_FORMS, 'value')[0];
        out[field.getAttribute('var')] = value ? value.textContent : '';
    }
    return out;
}

// Opens a calendar: subscribe first, then read the week, so that no change falls
// between the two (a change that arrives during the read just reads it again). After
// a reconnect it is the same calendar: what is shown stays until the new read.
async function openCalendar(conn, node) {
    if (node !== state.node) {
        state.node = node;
        state.occurrences = [];
        state.queryGeneration += 1; // a read of the previous calendar still under way is dropped
    }
    state.subscription = '';
    renderCalendars();
    renderAgenda();
    const url = new URL(window.location.href);
    url.searchParams.set('node', node);
    window.history.replaceState(null, '', url);
    try {
        state.subscription = await subscribe(conn, node);
    } catch (err) {
        if (conn !== state.conn) return;
        state.subscription = '';
        renderSubscription();
        showError(describeNodeError('subscribe to', node, err));
        return;
    }
    if (conn !== state.conn) return;
    showError('');
    renderSubscription();
    await refresh();
}

// Subscribes the bare JID: one subscription for the account, shared by all its tabs
// and devices, kept while the page is closed. Subscribing again is harmless (calpubsub
// answers with the existing subscription), so every (re)connect simply does it. The
// page reads the week again after every connect, so what it missed while offline
// does not matter.
async function subscribe(conn, node) {
    const reply = await sendIQ(conn, $iq({ type: 'set', to: state.service })
        .c('pubsub', { xmlns: NS.PUBSUB }).c('subscribe', { node, jid: state.jid }));
    const sub = reply.getElementsByTagNameNS(NS.PUBSUB, 'subscription')[0];
    return sub ? sub.getAttribute('subscription') || 'subscribed' : 'subscribed';
}

async function unsubscribe() {
    const conn = state.conn;
    if (!conn || !state.node) return;
    try {
        await sendIQ(conn, $iq({ type: 'set', to: state.service })
            .c('pubsub', { xmlns: NS.PUBSUB }).c('unsubscribe', { node: state.node, jid: state.jid }));
        state.subscription = 'none';
        renderSubscription();
        logActivity('Unsubscribed from ' + state.node + '.');
    } catch (err) {
        showError(describeNodeError('unsubscribe from', state.node, err));
    }
}

function describeNodeError(action, node, err) {
    const why = {
        'item-not-found': 'there is no such calendar, or it is hidden from you',
        'forbidden': 'you are not allowed to',
        'not-authorized': 'the calendar is not open to you',
        'not-allowed': 'the calendar is closed to you (' + (err.app || 'not-allowed') + ')',
        'resource-constraint': 'calpubsub is waiting for its database; try again shortly',
        'timeout': 'the service did not answer',
    }[err.condition] || err.message;
    return 'Could not ' + action + ' "' + node + '": ' + why + (err.text && !why.includes(err.text) ? ' (' + err.text + ')' : '') + '.';
}

// ---------------------------------------------------------------------------------
// 5. The week: a CalDAV calendar-query with <expand/>, and its xCal answer
// ---------------------------------------------------------------------------------

// Reads the shown week again. Calls that come while a read is running are folded into
// one more read after it, so a burst of notifications costs two queries, not fifty.
async function refresh() {
    if (state.refreshing) {
        state.refreshAgain = true;
        return;
    }
    state.refreshing = true;
    try {
        do {
            state.refreshAgain = false;
            await queryWeek();
        } while (state.refreshAgain);
    } finally {
        state.refreshing = false;
    }
}

async function queryWeek() {
    const conn = state.conn;
    const node = state.node;
    if (!conn || !node) return;
    const generation = ++state.queryGeneration;
    // One day more on each side than is shown: all-day events are floating dates, and
    // the server and this browser may place their midnight differently. What is not
    // on a shown day is left out when drawing.
    const start = addDays(state.from, -1);
    const end = addDays(state.from, DAYS_SHOWN + 1);
    // No RSM here: the reply holds every object with an occurrence in the range, each
    // with its occurrences expanded (overrides applied, EXDATEs removed, times in UTC).
    const iq = $iq({ type: 'get', to: state.service })
        .c('pubsub', { xmlns: NS.PUBSUB })
        .c('items', { node })
        .c('calendar-query', { xmlns: NS.CALDAV })
        .c('prop', { xmlns: NS.DAV }).c('calendar-data', { xmlns: NS.CALDAV }).c('expand').up().up().up()
        .c('filter').c('comp-filter', { name: 'VCALENDAR' }).c('comp-filter', { name: 'VEVENT' })
        .c('time-range', { start: caldavTime(start), end: caldavTime(end) });
    let reply;
    try {
        reply = await sendIQ(conn, iq);
    } catch (err) {
        if (generation === state.queryGeneration && conn === state.conn) {
            state.readFailed = true;
            showError(describeNodeError('read', node, err));
        }
        return;
    }
    // A newer query (another week, another calendar, a new connection) wins.
    if (generation !== state.queryGeneration || conn !== state.conn || node !== state.node) return;
    if (state.readFailed) showError('');
    state.readFailed = false;
    state.occurrences = parseOccurrences(reply);
    document.body.dataset.stale = 'false';
    // calpubsub caps a reply (pubsub.max_reply_items) and then says so with an RSM set.
    const set = reply.getElementsByTagNameNS(NS.RSM, 'set')[0];
    showNotice(set ? 'calpubsub sent only part of this week (its reply limit): some events may be missing.' : '');
    renderAgenda();
    // Changed events are highlighted once, in the first drawing that shows them.
    state.flash.clear();
}

// "20261207T050000Z": the UTC form a CalDAV time-range takes.
function caldavTime(date) {
    return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
}

// Every VEVENT of every item is one occurrence when the query asked for <expand/>:
//   <item id=UID><icalendar><vcalendar><components><vevent><properties>
//     <uid><text>..</text></uid> <summary><text>..</text></summary>
//     <dtstart><date-time>2026-12-07T08:30:00Z</date-time></dtstart>   (or <date>)
//     <dtend>..</dtend> or <duration><duration>PT1H</duration></duration> ...
function parseOccurrences(reply) {
    const out = [];
    for (const vevent of reply.getElementsByTagNameNS(NS.XCAL, 'vevent')) {
        const occ = parseEvent(vevent);
        if (occ) out.push(occ);
    }
    return out;
}

// A property of a component (its own, not those of its VALARMs): <properties><NAME>.
function xcalProp(component, name) {
    const props = directChildren(component, NS.XCAL, 'properties')[0];
    return directChildren(props, NS.XCAL, name)[0];
}

// A property's value(s) as text: every child but <parameters>, joined.
function xcalText(component, name) {
    const p = xcalProp(component, name);
    return p ? Array.from(p.children).filter((c) => c.localName !== 'parameters').map((c) => c.textContent).join(', ') : '';
}

function parseEvent(vevent) {
    const prop = (name) => xcalProp(vevent, name);
    const text = (name) => xcalText(vevent, name);
    const start = xcalTime(prop('dtstart'));
    if (!start) return null;
    let end = xcalTime(prop('dtend'));
    if (!end && prop('duration')) end = addDuration(start, text('duration'));
    if (!end) {
        // RFC 5545 3.6.1: no DTEND and no DURATION: a date lasts one day, a time no time.
        end = { date: start.allDay ? addDays(start.date, 1) : start.date, allDay: start.allDay };
    }
    const uid = text('uid');
    const recurrenceId = text('recurrence-id');
    return {
        key: uid + '/' + recurrenceId,
        uid,
        summary: text('summary') || '(no title)',
        location: text('location'),
        status: text('status').toUpperCase(),
        start: start.date,
        end: end.date,
        allDay: start.allDay,
    };
}

// An xCal time property's value as a Date: <date-time> ending in Z is UTC; without Z it
// is floating (the same wall-clock time everywhere: shown as is); <date> is a whole day
// from local midnight. new Date('2026-12-09') would be UTC midnight, the day before in
// America: build local dates from their parts instead.
function xcalTime(prop) {
    if (!prop) return null;
    const value = Array.from(prop.children).find((c) => c.localName === 'date-time' || c.localName === 'date');
    if (!value) return null;
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(Z)?)?$/.exec(value.textContent.trim());
    if (!m) return null;
    const [y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1, 7).map((x) => Number(x || 0));
    if (value.localName === 'date') return { date: new Date(y, mo - 1, d), allDay: true };
    const date = m[7] ? new Date(Date.UTC(y, mo - 1, d, h, mi, s)) : new Date(y, mo - 1, d, h, mi, s);
    return { date, allDay: false };
}

// start + an RFC 5545 duration ("PT1H30M", "P2D", "P1W"): weeks and days are calendar
// days (the same wall-clock time across a DST change), hours and less are exact.
function addDuration(start, text) {
    const m = /^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text.trim());
    if (!m) return null;
    const sign = m[1] === '-' ? -1 : 1;
    const [w, d, h, mi, s] = m.slice(2).map((x) => Number(x || 0));
    const date = new Date(start.date);
    date.setDate(date.getDate() + sign * (w * 7 + d));
    date.setTime(date.getTime() + sign * ((h * 60 + mi) * 60 + s) * 1000);
    return { date, allDay: start.allDay };
}

// ---------------------------------------------------------------------------------
// 6. Notifications: calpubsub pushes a <message/> for every change of the node
// ---------------------------------------------------------------------------------

// <message from=service id=ps-...><event xmlns=pubsub#event><items node=N>
//    <item id=UID>xCal of the whole object</item> | <retract id=UID/>
// </items></event></message>, or <delete/>, <purge/>, <subscription/> for the node.
// The item is the object as stored (master and overrides, times in their own zones),
// not occurrences: the page takes its summary for the activity list and reads the week
// again, so that recurrences are expanded by the server exactly as in the first read.
function onMessage(msg) {
    try {
        if (Strophe.getBareJidFromJid(msg.getAttribute('from') || '') !== state.service) return;
        const event = msg.getElementsByTagNameNS(NS.PUBSUB_EVENT, 'event')[0];
        if (!event) return;
        // Ids are stable: after a reconnect calpubsub may deliver one again.
        const id = msg.getAttribute('id');
        if (id) {
            if (state.seenNotifications.has(id)) return;
            state.seenNotifications.add(id);
            if (state.seenNotifications.size > 500) state.seenNotifications.delete(state.seenNotifications.values().next().value);
        }
        for (const child of event.children) {
            if (child.getAttribute('node') === state.node) onNodeEvent(child);
        }
    } catch (err) {
        console.error('calendar.js: could not handle a notification', err, msg);
    }
}

function onNodeEvent(el) {
    switch (el.localName) {
    case 'items':
        for (const change of el.children) {
            const uid = change.getAttribute('id');
            if (change.localName === 'retract') {
                // Gone: drop it from the page at once, before the week is read again.
                logActivity('Removed: ' + describeUid(uid) + '.');
                state.occurrences = state.occurrences.filter((o) => o.uid !== uid);
            } else if (change.localName === 'item') {
                // Known: it is on the page (in this week); else new, or in another week.
                const known = state.occurrences.some((o) => o.uid === uid);
                state.flash.add(uid);
                logActivity((known ? 'Changed: ' : 'Published: ') + summaryOfItem(change, uid) + '.');
            }
        }
        renderAgenda();
        refresh();
        break;
    case 'purge':
        state.occurrences = [];
        logActivity('The calendar was emptied.');
        renderAgenda();
        break;
    case 'delete':
        state.occurrences = [];
        state.subscription = '';
        showError('The calendar "' + state.node + '" was deleted.');
        renderAgenda();
        renderSubscription();
        break;
    case 'subscription':
        state.subscription = el.getAttribute('subscription') || '';
        logActivity('Subscription is now ' + state.subscription + '.');
        renderSubscription();
        if (state.subscription === 'subscribed') refresh();
        break;
    default:
        break;
    }
}

// The summary of a pushed object: of its first event, task or journal entry.
function summaryOfItem(item, uid) {
    const component = ['vevent', 'vtodo', 'vjournal']
        .map((name) => item.getElementsByTagNameNS(NS.XCAL, name)[0]).find(Boolean);
    const summary = component && xcalText(component, 'summary');
    return summary ? '"' + summary + '"' : uid;
}

function describeUid(uid) {
    const occ = state.occurrences.find((o) => o.uid === uid);
    return occ ? '"' + occ.summary + '"' : uid;
}

// ---------------------------------------------------------------------------------
// 7. Drawing: a week as an agenda, in the browser's time zone and language
// ---------------------------------------------------------------------------------

const fmt = {
    time: new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' }),
    day: new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' }),
    shortDay: new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' }),
    range: new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' }),
};

function renderCalendars() {
    const list = $('calendars');
    list.replaceChildren();
    $('calendars-empty').hidden = state.calendars.length > 0;
    if (state.conn && !state.calendars.length) $('calendars-empty').textContent = 'No calendars on ' + state.service + '.';
    for (const cal of state.calendars) {
        const button = document.createElement('button');
        button.type = 'button';
        button.dataset.node = cal.node;
        button.setAttribute('aria-pressed', String(cal.node === state.node));
        const title = document.createElement('span');
        title.textContent = cal.title;
        const node = document.createElement('small');
        node.textContent = cal.description || (cal.title !== cal.node ? cal.node : '');
        button.append(title, node);
        button.addEventListener('click', () => { if (state.conn) openCalendar(state.conn, cal.node); });
        const li = document.createElement('li');
        li.append(button);
        list.append(li);
    }
}

function renderSubscription() {
    const words = {
        subscribed: 'Subscribed: changes appear as they happen',
        pending: 'Subscription waiting for the owner\'s approval',
        unconfigured: 'Subscribed (options not set)',
        none: 'Not subscribed: this week will not update',
    };
    const el = $('subscription');
    el.textContent = state.node ? (words[state.subscription] || '') : '';
    el.dataset.subscription = state.subscription || 'none';
    $('unsubscribe').hidden = state.subscription !== 'subscribed';
}

function renderAgenda() {
    const days = [];
    for (let i = 0; i < DAYS_SHOWN; i++) days.push(addDays(state.from, i));
    $('range').textContent = (state.node ? calendarTitle(state.node) + ' · ' : '') +
        fmt.range.formatRange(days[0], days[DAYS_SHOWN - 1]);
    $('timezone').textContent = 'Times in ' + Intl.DateTimeFormat().resolvedOptions().timeZone + '.';
    const agenda = $('agenda');
    agenda.replaceChildren();
    if (!state.node) return;
    const today = startOfDay(new Date()).getTime();
    for (const day of days) {
        const section = document.createElement('section');
        section.className = 'day';
        section.dataset.date = isoDay(day);
        if (day.getTime() === today) section.classList.add('today');
        const h = document.createElement('h3');
        h.textContent = fmt.day.format(day);
        section.append(h);
        const events = occurrencesOn(day);
        if (!events.length) {
            const none = document.createElement('p');
            none.className = 'none';
            none.textContent = 'No events';
            section.append(none);
        } else {
            const ul = document.createElement('ul');
            ul.className = 'events';
            for (const occ of events) ul.append(renderEvent(occ, day));
            section.append(ul);
        }
        agenda.append(section);
    }
}

function calendarTitle(node) {
    const cal = state.calendars.find((c) => c.node === node);
    return cal ? cal.title : node;
}

// The occurrences that touch the local day [day, day + 1): all-day ones first, then
// by start. An event of no duration counts on the day it starts.
function occurrencesOn(day) {
    const start = day.getTime();
    const end = addDays(day, 1).getTime();
    return state.occurrences
        .filter((o) => o.start.getTime() < end &&
            (o.end.getTime() > start || (o.end.getTime() === o.start.getTime() && o.start.getTime() >= start)))
        .sort((a, b) => (b.allDay - a.allDay) || (a.start - b.start) || a.summary.localeCompare(b.summary));
}

function renderEvent(occ, day) {
    const li = document.createElement('li');
    li.className = 'event';
    li.dataset.uid = occ.uid;
    if (occ.allDay) li.classList.add('all-day');
    if (occ.status === 'CANCELLED') li.classList.add('cancelled');
    if (occ.status === 'TENTATIVE') li.classList.add('tentative');
    if (state.flash.has(occ.uid)) li.classList.add('flash');
    const when = document.createElement('span');
    when.className = 'when';
    when.textContent = describeWhen(occ, day);
    const what = document.createElement('span');
    what.className = 'what';
    what.textContent = occ.summary;
    li.append(when, what);
    if (occ.location) {
        const where = document.createElement('span');
        where.className = 'where';
        where.textContent = occ.location;
        li.append(where);
    }
    if (occ.status === 'CANCELLED' || occ.status === 'TENTATIVE') {
        const st = document.createElement('span');
        st.className = 'state';
        st.textContent = occ.status.toLowerCase();
        li.append(st);
    }
    return li;
}

// "09:30 – 09:45"; for an all-day event "All day", with "day 2 of 3" when it spans
// several days; for a timed event over midnight "22:00 → Sat 12 Dec", "until 02:00"
// or "all day (continues)" depending on the day shown.
function describeWhen(occ, day) {
    const dayStart = day.getTime();
    const dayEnd = addDays(day, 1).getTime();
    if (occ.allDay) {
        const total = daysBetween(occ.start, occ.end);
        if (total <= 1) return 'All day';
        return 'All day · day ' + (daysBetween(occ.start, day) + 1) + ' of ' + total;
    }
    const s = occ.start.getTime();
    const e = occ.end.getTime();
    const startsToday = s >= dayStart;
    const endsToday = e <= dayEnd;
    if (startsToday && endsToday) {
        return s === e ? fmt.time.format(occ.start) : fmt.time.format(occ.start) + ' – ' + fmt.time.format(occ.end);
    }
    if (startsToday) return fmt.time.format(occ.start) + ' → ' + fmt.shortDay.format(occ.end) + ' ' + fmt.time.format(occ.end);
    if (endsToday) return 'until ' + fmt.time.format(occ.end);
    return 'All day (continues)';
}

// Local calendar dates. Adding days with setDate() keeps midnight across DST changes
// (adding 86,400,000 ms would not).
function startOfDay(date) {
    return new Date(date.getFullYear(), date.getMonth(), date.getDate());
}

function addDays(date, n) {
    const d = new Date(date);
    d.setDate(d.getDate() + n);
    return d;
}

function daysBetween(a, b) {
    return Math.round((Date.UTC(b.getFullYear(), b.getMonth(), b.getDate()) -
        Date.UTC(a.getFullYear(), a.getMonth(), a.getDate())) / 86400000);
}

function isoDay(date) {
    const pad = (n) => String(n).padStart(2, '0');
    return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate());
}

function parseDayParam(text) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || '');
    return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}

// ---------------------------------------------------------------------------------
// 8. Wiring: the form, the buttons, and the first paint
// ---------------------------------------------------------------------------------

function showWeek(from) {
    state.from = from;
    state.occurrences = [];
    state.queryGeneration += 1; // a read of the previous week still under way is dropped
    const url = new URL(window.location.href);
    url.searchParams.set('from', isoDay(from));
    window.history.replaceState(null, '', url);
    renderAgenda();
    refresh();
}

$('login').addEventListener('submit', (e) => {
    e.preventDefault();
    login();
});
$('logout-button').addEventListener('click', logout);
$('reconnect-now').addEventListener('click', () => { state.attempt = 0; connect(); });
$('prev').addEventListener('click', () => showWeek(addDays(state.from, -DAYS_SHOWN)));
$('next').addEventListener('click', () => showWeek(addDays(state.from, DAYS_SHOWN)));
$('today').addEventListener('click', () => showWeek(startOfDay(new Date())));
$('unsubscribe').addEventListener('click', unsubscribe);

$('jid').value = params.get('jid') || '';
$('bosh').value = params.get('bosh') || '';
$('service').value = params.get('service') || '';
if (params.get('bosh') || params.get('service')) $('advanced').open = true;
setStatus('offline', 'Not connected. Log in to see your calendars.');
renderAgenda();
renderSubscription();
// Re-draw now and then, so that "today" stays true.
setInterval(renderAgenda, 60000);
// For tests and the curious: the state, from the browser's console.
window.calpubsubPage = { state };
