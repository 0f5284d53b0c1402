import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultState, normalizeHostUrl, stateFromQuery, stateToQuery, type ConsoleState } from '../../web/src/data/url-state.js';

const SELF = 'http://127.0.0.1:44322/';

test('the default state is an empty query: the console opened from an agent shows that agent', () => {
  assert.equal(stateToQuery(defaultState(SELF), SELF), '');
  const { state, problems } = stateFromQuery('', SELF);
  assert.deepEqual(state, defaultState(SELF));
  assert.deepEqual(state.hosts, ['http://127.0.0.1:44322']);
  assert.deepEqual(problems, []);
});

test('every field survives a round trip through the URL', () => {
  const state: ConsoleState = {
    hosts: ['http://127.0.0.1:44322', 'https://db-1.example.com:8443', 'http://[::1]:9000/vigil'],
    view: 'container',
    layout: 'overlay',
    window: 900,
    range: [1_700_000_000_000, 1_700_000_300_000],
    filter: 'ns:prod web',
    sort: '-memlimit',
    resource: 'io',
    top: 8,
    container: { host: 'https://db-1.example.com:8443', id: '/user.slice/user@0.service' },
    cgroups: true,
    charts: ['kernel.all.load', 'cgroup.memory.stat.anon'],
    zoom: ['system.slice', 'docker-abc.scope', 'name/with/slashes & spaces'],
    theme: 'dark',
  };
  const query = stateToQuery(state, SELF);
  const { state: back, problems } = stateFromQuery(query, SELF);
  assert.deepEqual(problems, []);
  assert.deepEqual(back, state);
  // A link copied from another page (with `?`) and a browser's re-encoding parse the same.
  assert.deepEqual(stateFromQuery(`?${new URLSearchParams(query).toString()}`, SELF).state, state);
});

test('bad values fall back to defaults and say why', () => {
  const { state, problems } = stateFromQuery('view=nope&window=3y&top=999&host=ftp://x&host=db:44322&container=abc&range=5-1', SELF);
  assert.equal(state.view, 'overview');
  assert.equal(state.window, 300);
  assert.equal(state.top, 5);
  assert.equal(state.range, undefined);
  assert.deepEqual(state.hosts, ['http://db:44322']);
  assert.equal(problems.length, 3, problems.join('; '));
  assert.match(problems.join(' '), /window "3y"/);
  assert.match(problems.join(' '), /ftp/);
});

test('agent addresses', () => {
  assert.equal(normalizeHostUrl('db-1:44322'), 'http://db-1:44322');
  assert.equal(normalizeHostUrl(' https://x.example/agent/ '), 'https://x.example/agent');
  assert.throws(() => normalizeHostUrl('http://'), /not an agent address/);
});
