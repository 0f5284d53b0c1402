import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJson } from './json.js';

describe('parseJson (the harness reads agent replies with it)', () => {
  it('keeps u64 integers past 2^53 exact, where JSON.parse rounds them', () => {
    const text = '{"max":18446744073709551615,"ns":[9007199254740993,-9007199254740993]}';
    assert.deepEqual(parseJson(text), { max: 2n ** 64n - 1n, ns: [2n ** 53n + 1n, -(2n ** 53n + 1n)] });
    assert.notEqual(BigInt(JSON.parse(text).ns[0]), 2n ** 53n + 1n);
  });

  it('agrees with JSON.parse on everything else, a pmproxy fetch reply included', () => {
    const texts = [
      '{"context":340388606,"timestamp":1795759133.109117469,"values":[{"pmid":"60.2.0","name":"kernel.all.load",' +
        '"instances":[{"instance":1,"value":0.17},{"instance":5,"value":1.16}]},' +
        '{"pmid":"60.0.32","name":"hinv.ncpu","instances":[{"instance":null,"value":2}]}]}\r\n',
      ' [ true , false , null , -0 , 1e3 , 2.5E-2 , 9007199254740991 , "" ] ',
      '"we\\u0022ird\\u005Cname\\u0009tab \\uFFFD \\n \\/"',
      '{ }',
      '[]',
    ];
    for (const text of texts) assert.deepEqual(parseJson(text), JSON.parse(text), text);
  });

  it('rejects what JSON.parse rejects, saying where', () => {
    for (const text of ['{"a":1,}', '[1 2]', '{"a" 1}', '01', '"\t"', 'nul', '{"a":1} x', '']) {
      assert.throws(() => JSON.parse(text), SyntaxError, `JSON.parse accepts ${text}`);
      assert.throws(() => parseJson(text), /at offset \d+/, text);
    }
  });
});
