import { FakeOpenAi, fakeReply } from './fake-openai';

interface ErrorBody {
  error: { message: string; type: string; code: string | null };
}
interface CompletionBody {
  choices: Array<{ message: { content: string | null } }>;
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

describe('FakeOpenAi', () => {
  let fake: FakeOpenAi;
  beforeEach(async () => {
    fake = await FakeOpenAi.start({ apiKey: 'sk-fake', models: ['gpt-4o-mini'] });
  });
  afterEach(async () => {
    expect(fake.internalErrors).toEqual([]);
    await fake.close();
  });

  const post = (path: string, body: string, key = 'sk-fake') =>
    fetch(`${fake.origin}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    });

  it('answers a scripted tool call in the chat-completions shape', async () => {
    fake.enqueue(
      fakeReply.toolCall('f', '{"a":', { usage: { prompt_tokens: 3, completion_tokens: 2 } }),
    );
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'm', messages: [] }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: 'chatcmpl-fake-1',
      object: 'chat.completion',
      created: 1_700_000_001,
      model: 'm',
      system_fingerprint: 'fp_fake',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            refusal: null,
            tool_calls: [
              { id: 'call_fake_1', type: 'function', function: { name: 'f', arguments: '{"a":' } },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it('errors use the OpenAI error body and carry Retry-After', async () => {
    fake.enqueue(fakeReply.error(429, { retryAfter: 2, code: 'rate_limit_exceeded' }));
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'm', messages: [] }));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toEqual({
      error: {
        message: 'Rate limit reached for requests. Please try again later.',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
  });

  it('checks the key, records requests with the credential redacted', async () => {
    const res = await post('/v1/chat/completions', '{}', 'sk-wrong');
    expect(res.status).toBe(401);
    expect((await json<ErrorBody>(res)).error.code).toBe('invalid_api_key');
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      body: '{}',
      auth: { scheme: 'bearer', valid: false },
      status: 401,
    });
    expect(fake.requests[0]!.headers['authorization']).toBe('[redacted]');
    expect(JSON.stringify(fake.requests)).not.toContain('sk-wrong');
  });

  it('rejects bad bodies and streaming, lists models, 404s unknown paths', async () => {
    expect((await post('/v1/chat/completions', '{not json')).status).toBe(400);
    expect((await post('/v1/chat/completions', '{"model":"m"}')).status).toBe(400);
    const stream = await post(
      '/v1/chat/completions',
      JSON.stringify({ model: 'm', messages: [], stream: true }),
    );
    expect(stream.status).toBe(400);
    const models = await fetch(`${fake.baseUrl}/models`, {
      headers: { authorization: 'Bearer sk-fake' },
    });
    const listed = await json<{ data: Array<{ id: string }> }>(models);
    expect(listed.data.map((m) => m.id)).toEqual(['gpt-4o-mini']);
    expect((await post('/v1/embeddings', '{}')).status).toBe(404);
  });

  it('uses the responder once the queue is empty, then a fixed text', async () => {
    fake.respondWith((req, { requestIndex }) =>
      fakeReply.text(`#${requestIndex} saw ${req.messages.length} message(s)`),
    );
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    const first = await json<CompletionBody>(await post('/v1/chat/completions', body));
    expect(first.choices[0]!.message.content).toBe('#0 saw 1 message(s)');
    fake.respondWith(undefined);
    const second = await json<CompletionBody>(await post('/v1/chat/completions', body));
    expect(second.choices[0]!.message.content).toBe('fake-openai: no scripted reply');
  });
});
