/**
 * The small part of XML-RPC (http://xmlrpc.com/spec.md) that supervisord speaks:
 * `methodCall` encoding and `methodResponse` decoding, faults included.
 */

export type XmlRpcValue = string | number | boolean | null | Uint8Array | XmlRpcValue[] | { [key: string]: XmlRpcValue };

/** A `<fault>` answer: the call reached the server and the server said no. */
export class XmlRpcFault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(`XML-RPC fault ${faultCode}: ${faultString}`);
    this.name = 'XmlRpcFault';
  }
}

/** The answer is not an XML-RPC methodResponse (wrong server, proxy error page, truncated body). */
export class XmlRpcFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlRpcFormatError';
  }
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
// XML 1.0 cannot carry these characters at all, escaped or not.
// eslint-disable-next-line no-control-regex
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

function escapeText(text: string): string {
  if (XML_FORBIDDEN.test(text)) throw new TypeError('XML-RPC strings cannot hold control characters');
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function encodeValue(value: XmlRpcValue, depth: number): string {
  if (depth > 32) throw new TypeError('XML-RPC value nested too deeply');
  if (value === null) return '<value><nil/></value>';
  if (typeof value === 'string') return `<value><string>${escapeText(value)}</string></value>`;
  if (typeof value === 'boolean') return `<value><boolean>${value ? 1 : 0}</boolean></value>`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('XML-RPC cannot carry NaN or Infinity');
    if (Number.isInteger(value)) {
      return value >= INT32_MIN && value <= INT32_MAX ? `<value><int>${value}</int></value>` : `<value><i8>${value}</i8></value>`;
    }
    return `<value><double>${value}</double></value>`;
  }
  if (value instanceof Uint8Array) return `<value><base64>${Buffer.from(value).toString('base64')}</base64></value>`;
  if (Array.isArray(value)) {
    return `<value><array><data>${value.map((item) => encodeValue(item, depth + 1)).join('')}</data></array></value>`;
  }
  const members = Object.entries(value)
    .map(([name, item]) => `<member><name>${escapeText(name)}</name>${encodeValue(item, depth + 1)}</member>`)
    .join('');
  return `<value><struct>${members}</struct></value>`;
}

/** Encodes a call: `encodeMethodCall('supervisor.stopProcess', ['api', true])`. */
export function encodeMethodCall(method: string, params: readonly XmlRpcValue[]): string {
  if (!/^[A-Za-z0-9_.:/]+$/.test(method)) throw new TypeError(`"${method}" is not a valid XML-RPC method name`);
  const encoded = params.map((param) => `<param>${encodeValue(param, 0)}</param>`).join('');
  return `<?xml version="1.0"?>\n<methodCall><methodName>${method}</methodName><params>${encoded}</params></methodCall>\n`;
}

interface XmlElement {
  name: string;
  children: XmlElement[];
  /** Text directly inside this element, entities decoded. */
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    const named = ENTITIES[entity];
    if (named === undefined) throw new XmlRpcFormatError(`unknown XML entity ${whole}`);
    return named;
  });
}

const MAX_DEPTH = 64;

/** A strict little XML reader: elements, text, CDATA; prolog, comments and attributes are skipped. */
function parseXml(xml: string): XmlElement {
  let pos = 0;
  const fail = (what: string): never => {
    throw new XmlRpcFormatError(`not XML-RPC: ${what} at character ${pos}`);
  };
  const skipMisc = () => {
    for (;;) {
      while (pos < xml.length && /\s/.test(xml[pos] ?? '')) pos++;
      if (xml.startsWith('<?', pos)) {
        const end = xml.indexOf('?>', pos);
        if (end < 0) fail('unterminated processing instruction');
        pos = end + 2;
      } else if (xml.startsWith('<!--', pos)) {
        const end = xml.indexOf('-->', pos);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (xml.startsWith('<!DOCTYPE', pos)) {
        fail('DOCTYPE is not allowed');
      } else return;
    }
  };
  const readElement = (depth: number): XmlElement => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    const open = /^<([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(xml.slice(pos, pos + 1_000));
    if (!open) return fail('expected an element');
    const name = open[1] ?? '';
    pos += open[0].length;
    const element: XmlElement = { name, children: [], text: '' };
    if (open[3] === '/') return element;
    for (;;) {
      if (pos >= xml.length) fail(`unclosed <${name}>`);
      if (xml.startsWith('</', pos)) {
        const close = /^<\/([A-Za-z_][\w.:-]*)\s*>/.exec(xml.slice(pos, pos + 300));
        if (!close || close[1] !== name) fail(`expected </${name}>`);
        pos += close?.[0].length ?? 0;
        return element;
      }
      if (xml.startsWith('<![CDATA[', pos)) {
        const end = xml.indexOf(']]>', pos);
        if (end < 0) fail('unterminated CDATA');
        element.text += xml.slice(pos + 9, end);
        pos = end + 3;
      } else if (xml.startsWith('<!--', pos)) {
        const end = xml.indexOf('-->', pos);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (xml[pos] === '<') {
        element.children.push(readElement(depth + 1));
      } else {
        const next = xml.indexOf('<', pos);
        const end = next < 0 ? xml.length : next;
        element.text += decodeEntities(xml.slice(pos, end));
        pos = end;
      }
    }
  };
  skipMisc();
  const root = readElement(0);
  skipMisc();
  if (pos < xml.length) fail('content after the document');
  return root;
}

function only(element: XmlElement, name: string): XmlElement {
  const found = element.children.filter((child) => child.name === name);
  if (found.length !== 1 || !found[0]) throw new XmlRpcFormatError(`<${element.name}> must hold exactly one <${name}>`);
  return found[0];
}

function decodeValue(value: XmlElement): XmlRpcValue {
  if (value.name !== 'value') throw new XmlRpcFormatError(`expected <value>, got <${value.name}>`);
  const [typed, ...extra] = value.children;
  // A <value> without a type element is a string (spec: "If no type is indicated, the type is string").
  if (!typed) return value.text;
  if (extra.length > 0) throw new XmlRpcFormatError('<value> must hold one type element');
  const text = typed.text.trim();
  switch (typed.name) {
    case 'string':
      return typed.text;
    case 'int':
    case 'i4':
    case 'i8': {
      if (!/^[+-]?\d+$/.test(text)) throw new XmlRpcFormatError(`<${typed.name}>${text}</${typed.name}> is not an integer`);
      return Number(text);
    }
    case 'double': {
      const number = Number(text);
      if (text === '' || Number.isNaN(number)) throw new XmlRpcFormatError(`<double>${text}</double> is not a number`);
      return number;
    }
    case 'boolean':
      if (text !== '0' && text !== '1') throw new XmlRpcFormatError(`<boolean>${text}</boolean> must be 0 or 1`);
      return text === '1';
    case 'nil':
      return null;
    case 'base64':
      return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'base64'));
    case 'dateTime.iso8601':
      // Kept as written: XML-RPC dates carry no time zone, so turning them into a Date would guess.
      return text;
    case 'array':
      return only(typed, 'data').children.map(decodeValue);
    case 'struct': {
      const struct: Record<string, XmlRpcValue> = {};
      for (const member of typed.children) {
        if (member.name !== 'member') throw new XmlRpcFormatError(`<struct> holds <${member.name}>`);
        struct[only(member, 'name').text] = decodeValue(only(member, 'value'));
      }
      return struct;
    }
    default:
      throw new XmlRpcFormatError(`unknown XML-RPC type <${typed.name}>`);
  }
}

/** Decodes a `methodResponse`; a `<fault>` is thrown as XmlRpcFault, anything else malformed as XmlRpcFormatError. */
export function decodeMethodResponse(xml: string): XmlRpcValue {
  const root = parseXml(xml);
  if (root.name !== 'methodResponse') throw new XmlRpcFormatError(`expected <methodResponse>, got <${root.name}>`);
  const [body] = root.children;
  if (!body || root.children.length !== 1) throw new XmlRpcFormatError('<methodResponse> must hold <params> or <fault>');
  if (body.name === 'fault') {
    const fault = decodeValue(only(body, 'value'));
    if (!fault || typeof fault !== 'object' || Array.isArray(fault) || fault instanceof Uint8Array) {
      throw new XmlRpcFormatError('<fault> must hold a struct');
    }
    const { faultCode, faultString } = fault;
    if (typeof faultCode !== 'number' || typeof faultString !== 'string') {
      throw new XmlRpcFormatError('<fault> struct needs faultCode (int) and faultString (string)');
    }
    throw new XmlRpcFault(faultCode, faultString);
  }
  if (body.name !== 'params') throw new XmlRpcFormatError(`<methodResponse> holds <${body.name}>`);
  return decodeValue(only(only(body, 'param'), 'value'));
}
