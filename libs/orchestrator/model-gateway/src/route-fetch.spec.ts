import { ChatOpenAI } from '@langchain/openai';
import { FakeOpenAi, fakeReply } from './testing';
import { RouteViolationError, routeFetch } from './route-fetch';

describe('routeFetch', () => {
  let fake: FakeOpenAi;
  beforeEach(async () => {
    fake = await FakeOpenAi.start();
  });
  afterEach(async () => {
    await fake.close();
  });

  it("refuses any URL but the route's chat-completions endpoint", async () => {
    const guarded = routeFetch(
      'routes.default',
      `${fake.baseUrl}/chat/completions`,
      'none',
      undefined,
    );
    await expect(guarded(`${fake.baseUrl}/responses`, { method: 'POST' })).rejects.toThrow(
      RouteViolationError,
    );
    await expect(guarded('https://api.openai.com/v1/chat/completions')).rejects.toThrow(
      `refused https://api.openai.com/v1/chat/completions`,
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('replaces whatever credential headers it is given', async () => {
    fake.enqueue(fakeReply.text('a'), fakeReply.text('b'), fakeReply.text('c'));
    const allowed = `${fake.baseUrl}/chat/completions`;
    const init = {
      method: 'POST',
      headers: { authorization: 'Bearer sk-from-elsewhere', 'api-key': 'other', 'x-keep': '1' },
      body: JSON.stringify({ model: 'm', messages: [] }),
    };
    await routeFetch('r', allowed, 'none', undefined)(allowed, init);
    await routeFetch('r', allowed, 'api-key', 'k1')(allowed, init);
    await routeFetch('r', allowed, 'bearer', 'k2')(allowed, init);
    expect(fake.requests.map((r) => r.auth.scheme)).toEqual(['none', 'api-key', 'bearer']);
    expect(fake.requests.every((r) => r.headers['x-keep'] === '1')).toBe(true);
  });

  it('stops ChatOpenAI 1.5.8 from silently switching a "-pro"/codex model to the Responses API', async () => {
    // Characterises the library: useResponsesApi:false is overridden by the model name.
    const chat = new ChatOpenAI({
      model: 'gpt-5.2-pro',
      apiKey: 'k',
      useResponsesApi: false,
      maxRetries: 0,
      configuration: {
        baseURL: fake.baseUrl,
        fetch: routeFetch('r', `${fake.baseUrl}/chat/completions`, 'bearer', 'k'),
      },
    });
    // The SDK wraps whatever fetch throws in its "Connection error." (APIConnectionError):
    // the gateway looks for the RouteViolationError in the cause chain and never retries it.
    const error: unknown = await chat.invoke('hi').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(RouteViolationError);
    expect((cause as Error).message).toMatch(/refused http:\/\/127\.0\.0\.1:\d+\/v1\/responses$/);
    expect(fake.requests).toHaveLength(0);
  });
});
