import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, render } from '@testing-library/react';
import { EVENT_TYPES, type EventEnvelope, type EventType } from '@app/contracts';
import { MemoryRouter } from 'react-router-dom';
import { ActivityFeed } from '../ActivityFeed';
import { EventsTable } from '../EventsTable';
import { FeedItem } from '../FeedItem';
import { FIXTURES } from '../../format/__tests__/fixtures';

const SCRIPT = '<script>window.__pwned = true</script>';
const IMG = '<img src=x onerror="window.__pwned=true">';
const PAYLOAD = `${IMG}${SCRIPT}`;

/** Every string of a payload replaced by markup (arrays and nested objects too). */
function poison(value: unknown): unknown {
  if (typeof value === 'string') return PAYLOAD;
  if (Array.isArray(value)) return value.length ? value.map(poison) : [PAYLOAD];
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, poison(v)]));
  return value;
}

/**
 * An event whose every text field carries markup (the prototype's stored XSS via innerHTML): the typed fixture of
 * its type with each declared string field poisoned, plus markup in the envelope's source and agent id.
 */
function hostile(type: EventType, seq: number): EventEnvelope {
  return {
    seq,
    id: `id-${seq}`,
    type,
    source: `<b>${PAYLOAD}</b>`,
    channel: 'swarm',
    taskId: `t${seq}`,
    agentId: PAYLOAD,
    data: poison(FIXTURES[type]),
    createdAt: '2026-11-21T10:11:12.345Z',
  } as unknown as EventEnvelope;
}

function expectInert(container: HTMLElement) {
  expect(container.querySelector('script, img, b, iframe, svg')).toBeNull();
  expect(document.querySelectorAll('img').length).toBe(0);
  expect((window as unknown as { __pwned?: boolean }).__pwned).toBeUndefined();
}

describe('event data is rendered as text, never as HTML', () => {
  beforeAll(() => {
    // jsdom has no layout: give the virtualised feed a viewport so it renders rows.
    Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 2000 });
    Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 1000 });
  });
  afterEach(cleanup);

  it('FeedItem shows the payload as literal text', () => {
    const { container } = render(<FeedItem event={hostile('task.created', 1)} />);
    expectInert(container);
    expect(container.textContent).toContain('<img src=x onerror=');
    expect(container.textContent).toContain('<b><img');
  });

  it('the virtualised ActivityFeed renders every event type inertly', () => {
    const events = EVENT_TYPES.map((t, i) => hostile(t, EVENT_TYPES.length - i));
    const { container, getAllByTestId } = render(<ActivityFeed events={events} />);
    const items = getAllByTestId('feed-item');
    expect(items.length).toBe(EVENT_TYPES.length);
    expect(new Set(items.map((el) => el.getAttribute('data-type')))).toEqual(new Set(EVENT_TYPES));
    expectInert(container);
    expect(container.textContent).toContain('<script>window.__pwned = true</script>'.slice(0, 20));
    // every type shows some of its (poisoned) payload or agent as literal text, but those whose line carries no free
    // text (task.bidding: a time; router.metrics_flushed: a count; invoice.expired / payment.sent: amounts only)
    const shown = items.filter((el) => el.querySelector('.feed-item__text')?.textContent?.includes('<img'));
    const silent = items.filter((el) => !shown.includes(el)).map((el) => el.getAttribute('data-type'));
    expect(silent.sort()).toEqual(['invoice.expired', 'payment.sent', 'router.metrics_flushed', 'task.bidding']);
  });

  it('the Events table (summary and JSON data) renders the payload as text', () => {
    const { container } = render(
      <MemoryRouter>
        <EventsTable events={[hostile('question.asked', 7), hostile('task.completed', 6)]} />
      </MemoryRouter>,
    );
    expectInert(container);
    expect(container.querySelector('pre.json')?.textContent).toContain(PAYLOAD.replace(/"/g, '\\"'));
  });
});
