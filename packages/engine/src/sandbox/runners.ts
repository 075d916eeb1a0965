/**
 * The programs that run a code skill's code inside the sandbox. They are passed on the
 * command line (`node -e`, `python3 -c`), so nothing of the host but the interpreter is
 * mounted. Each reads one request line from stdin — `{"code", "input"}` — runs the code
 * once, writes one result frame and exits. The code's own stdout and stderr pass through
 * untouched; the result frame is the one stdout line that starts with `RESULT_MARK`.
 * The runners are not a security boundary (the sandbox is): code that forges a frame
 * only changes its own result.
 *
 * `fetch(url, init)` is bridged: the runner writes a `FETCH_MARK` frame, the engine makes
 * the request through its allow-listed HTTP client (the sandbox has no network) and
 * answers with one stdin line.
 */
export const RESULT_MARK = '\u001eLOOM-RESULT ';
export const FETCH_MARK = '\u001eLOOM-FETCH ';
/** Written once the interpreter has started: the code's time limit counts from here, not from the sandbox's boot. */
export const READY_MARK = '\u001eLOOM-READY';

export const JAVASCRIPT_RUNNER = String.raw`
'use strict';
const RESULT = ${JSON.stringify(RESULT_MARK)};
const FETCH = ${JSON.stringify(FETCH_MARK)};
const READY = ${JSON.stringify(READY_MARK)};
const write = process.stdout.write.bind(process.stdout);
const exit = process.exit.bind(process);
let buffered = '';
let request;
const pending = new Map();
let nextFetch = 0;
let done = false;
function finish(frame) {
  if (done) return;
  done = true;
  let text;
  try { text = JSON.stringify(frame); } catch (error) { text = JSON.stringify({ ok: false, error: { name: 'TypeError', message: 'the result cannot be turned into JSON: ' + error.message } }); }
  write('\n' + RESULT + text + '\n', () => exit(0));
}
function fail(error) {
  const e = error instanceof Error ? error : new Error(String(error));
  finish({ ok: false, error: { name: e.name, message: e.message, stack: String(e.stack || '').split('\n').slice(0, 8).join('\n') } });
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
globalThis.fetch = (url, init = {}) => new Promise((resolve, reject) => {
  const id = ++nextFetch;
  pending.set(id, { resolve, reject });
  write('\n' + FETCH + JSON.stringify({ id, url: String(url), method: init.method || 'GET', headers: init.headers || {}, body: init.body == null ? undefined : String(init.body) }) + '\n');
});
async function start() {
  const AsyncFunction = (async () => {}).constructor;
  try {
    const run = new AsyncFunction('input', request.code);
    const output = await run(request.input);
    finish({ ok: true, output: output === undefined ? null : output });
  } catch (error) { fail(error); }
}
process.stdin.setEncoding('utf8');
write(READY + '\n');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let at;
  while ((at = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, at);
    buffered = buffered.slice(at + 1);
    const message = JSON.parse(line);
    if (!request) { request = message; void start(); continue; }
    const waiter = pending.get(message.id);
    if (!waiter) continue;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(message.error));
    else waiter.resolve({ ok: message.status >= 200 && message.status < 300, status: message.status, headers: message.headers, text: async () => message.body, json: async () => JSON.parse(message.body) });
  }
});
`;

export const PYTHON_RUNNER = String.raw`
import ast, json, sys, traceback
RESULT = ${JSON.stringify(RESULT_MARK)}
FETCH = ${JSON.stringify(FETCH_MARK)}
out = sys.__stdout__
out.write(${JSON.stringify(READY_MARK)} + '\n')
out.flush()
_next = [0]
def fetch(url, method='GET', headers=None, body=None):
    _next[0] += 1
    sys.stdout.flush()
    out.write('\n' + FETCH + json.dumps({'id': _next[0], 'url': str(url), 'method': method, 'headers': headers or {}, 'body': body}) + '\n')
    out.flush()
    answer = json.loads(sys.stdin.readline())
    if answer.get('error'):
        raise OSError(answer['error'])
    return answer
def finish(frame):
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        text = json.dumps(frame)
    except Exception as error:
        text = json.dumps({'ok': False, 'error': {'name': 'TypeError', 'message': 'the result cannot be turned into JSON: ' + str(error)}})
    out.write('\n' + RESULT + text + '\n')
    out.flush()
request = json.loads(sys.stdin.readline())
try:
    module = ast.parse(request['code'], '<code>')
    body = module.body or [ast.Pass()]
    fields = dict(name='main', args=ast.arguments(posonlyargs=[], args=[ast.arg(arg='input')], kwonlyargs=[], kw_defaults=[], defaults=[]), body=body, decorator_list=[], returns=None)
    if 'type_params' in ast.FunctionDef._fields:
        fields['type_params'] = []
    main = ast.FunctionDef(**fields)
    tree = ast.fix_missing_locations(ast.Module(body=[main], type_ignores=[]))
    scope = {'fetch': fetch, '__name__': '__loom__'}
    exec(compile(tree, '<code>', 'exec'), scope)
    result = scope['main'](request['input'])
    finish({'ok': True, 'output': result})
except BaseException as error:
    finish({'ok': False, 'error': {'name': type(error).__name__, 'message': str(error), 'stack': ''.join(traceback.format_exception(error)[-4:])}})
`;
