import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from '@testing-library/react';
import { MOBILE_EVENT_TYPES } from '@app/contracts';
import { formatEvent } from '../../format/formatEvent';
import { AT, FIXTURES, typedEnvelope } from '../../format/__tests__/fixtures';
import { FeedItem } from '../FeedItem';

afterEach(cleanup);

describe('phone feed (MobilePage renders each mobile event as a compact FeedItem)', () => {
  it('the mobile digest includes the upgrade decisions and outcomes, never ledger events', () => {
    expect(MOBILE_EVENT_TYPES).toEqual(
      expect.arrayContaining(['upgrade.approval_added', 'upgrade.approval_resolved', 'upgrade.applied', 'upgrade.failed', 'upgrade.rolled_back']),
    );
    expect(MOBILE_EVENT_TYPES.filter((t) => /^(invoice|payment|hold|ledger)\./.test(t))).toEqual([]);
  });

  it.each(MOBILE_EVENT_TYPES.map((t) => [t]))('%s renders its typed line, label and time compactly', (type) => {
    const e = typedEnvelope(type, FIXTURES[type], { createdAt: AT });
    const f = formatEvent(e);
    const { getByTestId } = render(<FeedItem event={e} compact />);
    const item = getByTestId('feed-item');
    expect(item.className).toContain('feed-item--compact');
    expect(item.querySelector('.feed-item__label')?.textContent).toBe(f.label);
    expect(item.querySelector('.feed-item__text')?.textContent).toBe(f.text);
    expect(f.text.length).toBeGreaterThan(0);
    expect(item.querySelector('.feed-item__source')).toBeNull();
  });
});
