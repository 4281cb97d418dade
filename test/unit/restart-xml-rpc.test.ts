import { describe, expect, it } from 'vitest';
import { decodeMethodResponse, encodeMethodCall, XmlRpcFault, XmlRpcFormatError } from '../../src/integrations/supervisor/xml-rpc.js';

const response = (value: string) => `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value>${value}</value>\n</param>\n</params>\n</methodResponse>\n`;

describe('encodeMethodCall', () => {
  it('encodes strings, ints, booleans, doubles, nil, arrays and structs', () => {
    expect(encodeMethodCall('supervisor.stopProcess', ['company-api', true])).toBe(
      '<?xml version="1.0"?>\n<methodCall><methodName>supervisor.stopProcess</methodName><params>' +
        '<param><value><string>company-api</string></value></param>' +
        '<param><value><boolean>1</boolean></value></param>' +
        '</params></methodCall>\n',
    );
    const xml = encodeMethodCall('x.y', [42, -7, 1.5, false, null, ['a', 1], { name: 'n', list: [] }, 2 ** 40]);
    expect(xml).toContain('<param><value><int>42</int></value></param>');
    expect(xml).toContain('<param><value><int>-7</int></value></param>');
    expect(xml).toContain('<param><value><double>1.5</double></value></param>');
    expect(xml).toContain('<param><value><boolean>0</boolean></value></param>');
    expect(xml).toContain('<param><value><nil/></value></param>');
    expect(xml).toContain('<value><array><data><value><string>a</string></value><value><int>1</int></value></data></array></value>');
    expect(xml).toContain(
      '<value><struct><member><name>name</name><value><string>n</string></value></member>' +
        '<member><name>list</name><value><array><data></data></array></value></member></struct></value>',
    );
    expect(xml).toContain('<i8>1099511627776</i8>');
  });

  it('escapes markup so a value cannot change the document', () => {
    expect(encodeMethodCall('m', ['</string><int>1</int> & more'])).toContain(
      '<string>&lt;/string&gt;&lt;int&gt;1&lt;/int&gt; &amp; more</string>',
    );
  });

  it('refuses what XML cannot carry', () => {
    expect(() => encodeMethodCall('m', ['a\u0000b'])).toThrow(/control characters/);
    expect(() => encodeMethodCall('m', [Number.NaN])).toThrow(/NaN/);
    expect(() => encodeMethodCall('bad name<', [])).toThrow(/method name/);
  });

  it('round-trips through the decoder', () => {
    const value = { name: 'api', pid: 4120, up: true, ratio: 0.25, tags: ['a', 'b & c'], nothing: null };
    const call = encodeMethodCall('m', [value]);
    const inner = /<param>(<value>.*<\/value>)<\/param>/.exec(call)?.[1] ?? '';
    expect(decodeMethodResponse(response(inner.replace(/^<value>|<\/value>$/g, '')))).toEqual(value);
  });
});

describe('decodeMethodResponse', () => {
  it('decodes a getProcessInfo struct as supervisord (Python xmlrpc.client) writes it', () => {
    const xml = response(
      '<struct>\n' +
        '<member>\n<name>name</name>\n<value><string>sleeper</string></value>\n</member>\n' +
        '<member>\n<name>pid</name>\n<value><int>4188</int></value>\n</member>\n' +
        '<member>\n<name>statename</name>\n<value><string>RUNNING</string></value>\n</member>\n' +
        '<member>\n<name>spawnerr</name>\n<value><string></string></value>\n</member>\n' +
        '<member>\n<name>description</name>\n<value><string>pid 4188, uptime 0:00:01</string></value>\n</member>\n' +
        '</struct>',
    );
    expect(decodeMethodResponse(xml)).toEqual({
      name: 'sleeper', pid: 4188, statename: 'RUNNING', spawnerr: '', description: 'pid 4188, uptime 0:00:01',
    });
  });

  it.each([
    ['<boolean>1</boolean>', true],
    ['<boolean>0</boolean>', false],
    ['<i4>-12</i4>', -12],
    ['<i8>1099511627776</i8>', 2 ** 40],
    ['<double>-0.5</double>', -0.5],
    ['plain text', 'plain text'],
    ['', ''],
    ['<string>a &lt;b&gt; &amp; &#233;&#x41;</string>', 'a <b> & éA'],
    ['<string><![CDATA[<raw>]]></string>', '<raw>'],
    ['<nil/>', null],
    ['<dateTime.iso8601>20240101T12:00:00</dateTime.iso8601>', '20240101T12:00:00'],
    ['<array><data><value><int>1</int></value><value>x</value></data></array>', [1, 'x']],
  ])('decodes %s', (value, expected) => {
    expect(decodeMethodResponse(response(value))).toEqual(expected);
  });

  it('decodes base64 into bytes', () => {
    expect(Buffer.from(decodeMethodResponse(response('<base64>aGVs\nbG8=</base64>')) as Uint8Array).toString()).toBe('hello');
  });

  it('throws a fault with its code and string', () => {
    const xml =
      "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n" +
      '<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n' +
      '<member>\n<name>faultString</name>\n<value><string>BAD_NAME: nope</string></value>\n</member>\n' +
      '</struct></value>\n</fault>\n</methodResponse>\n';
    const error = (() => {
      try {
        decodeMethodResponse(xml);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(XmlRpcFault);
    expect(error).toMatchObject({ faultCode: 10, faultString: 'BAD_NAME: nope' });
  });

  it.each([
    ['an HTML error page', '<html><body>502 Bad Gateway</body></html>', /expected <methodResponse>/],
    ['a truncated answer', "<?xml version='1.0'?><methodResponse><params><param><value><int>1", /unclosed|expected/],
    ['mismatched tags', '<methodResponse><params><param><value><int>1</i4></value></param></params></methodResponse>', /expected <\/int>/],
    ['an unknown type', '<methodResponse><params><param><value><bigint>1</bigint></value></param></params></methodResponse>', /unknown XML-RPC type/],
    ['a non-integer int', '<methodResponse><params><param><value><int>1.5</int></value></param></params></methodResponse>', /not an integer/],
    ['a bad boolean', '<methodResponse><params><param><value><boolean>true</boolean></value></param></params></methodResponse>', /0 or 1/],
    ['a DOCTYPE (entity expansion)', '<!DOCTYPE x [<!ENTITY a "b">]><methodResponse/>', /DOCTYPE/],
    ['an unknown entity', '<methodResponse><params><param><value>&a;</value></param></params></methodResponse>', /unknown XML entity/],
    ['a fault without faultCode', '<methodResponse><fault><value><struct></struct></value></fault></methodResponse>', /faultCode/],
    ['two params bodies', '<methodResponse><params/><params/></methodResponse>', /<params> or <fault>/],
    ['trailing content', '<methodResponse><params><param><value>1</value></param></params></methodResponse><x/>', /after the document/],
  ])('rejects %s', (_, xml, message) => {
    expect(() => decodeMethodResponse(xml)).toThrow(XmlRpcFormatError);
    expect(() => decodeMethodResponse(xml)).toThrow(message);
  });
});
