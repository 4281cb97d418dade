import { IntegrationError } from '../integration-error.js';
import { withDeadline, type Deadline } from '../restart/deadline.js';
import { RequestAborted, sendHttp, socketPathOf, type HttpAnswer, type HttpEndpoint } from '../restart/http-request.js';
import type { DockerRestartConfig } from '../restart/schema.js';
import { describeSocketProblem, errorCode, excerpt } from '../restart/socket-problem.js';
import type { KindRestarter, RestartOutcome } from '../restart/types.js';

/** Labels docker compose puts on every container it creates. */
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';

/** Seconds Docker waits after SIGTERM before SIGKILL, as `docker restart` does by default. */
const STOP_GRACE_SECONDS = 10;

interface Container {
  id: string;
  name: string;
}

/**
 * Restarts containers through the Docker Engine API (`POST /containers/{id}/restart`), one at a
 * time so a service with several replicas never has all of them down at once. Paths carry no
 * version prefix: the daemon then serves its own API version, and old pinned versions are
 * refused by new daemons.
 */
export function createDockerRestarter(): KindRestarter<DockerRestartConfig> {
  return {
    restart: (config, { signal }) => withDeadline(signal, config.timeout, (deadline) => restartContainers(config, deadline)),
  };
}

async function restartContainers(config: DockerRestartConfig, deadline: Deadline): Promise<RestartOutcome> {
  const docker = dockerEndpoint(config.host);
  const where = `Docker at ${config.host}`;
  const restarted: string[] = [];
  const send = async (method: string, path: string, what: string) => {
    try {
      return await sendHttp(docker, { method, path, headers: { accept: 'application/json' }, signal: deadline.signal });
    } catch (error) {
      throw transportFailure(error, { where, what, host: config.host, restarted, deadline });
    }
  };

  const containers = config.compose
    ? await findComposeContainers(config.compose, send, where)
    : (config.containers ?? []).map((name) => ({ id: name.replace(/^\//, ''), name: name.replace(/^\//, '') }));

  // Keep the grace period inside the restart's own timeout, or a slow stop would outlive it.
  const grace = Math.max(1, Math.min(STOP_GRACE_SECONDS, Math.floor(config.timeout / 2_000)));
  for (const container of containers) {
    const answer = await send('POST', `/containers/${encodeURIComponent(container.id)}/restart?t=${grace}`, `restart ${container.name}`);
    if (answer.status === 404 && !config.compose) {
      throw new IntegrationError(`${where} has no container named ${container.name}${partial(restarted)}`, {
        hint: 'Use the name `docker ps -a --format {{.Names}}` shows.',
      });
    }
    if (answer.status !== 204) {
      throw new IntegrationError(`${where} could not restart ${container.name}: ${dockerMessage(answer)}${partial(restarted)}`);
    }
    restarted.push(container.name);
  }

  const detail = config.compose
    ? `docker restarted ${describeCount(restarted.length)} of ${config.compose.project}/${config.compose.service}: ${restarted.join(', ')}`
    : `docker restarted ${restarted.join(', ')}`;
  return { detail, targets: restarted };
}

type Send = (method: string, path: string, what: string) => Promise<HttpAnswer>;

async function findComposeContainers(compose: { project: string; service: string }, send: Send, where: string): Promise<Container[]> {
  const labels = [`${COMPOSE_PROJECT_LABEL}=${compose.project}`, `${COMPOSE_SERVICE_LABEL}=${compose.service}`];
  const query = new URLSearchParams({ all: '1', filters: JSON.stringify({ label: labels }) });
  const answer = await send('GET', `/containers/json?${query.toString()}`, 'list containers');
  if (answer.status !== 200) throw new IntegrationError(`${where} could not list containers: ${dockerMessage(answer)}`);
  const containers = parseContainerList(answer.body);
  if (!containers) throw new IntegrationError(`${where} answered the container list with something that is not a list`);
  if (containers.length === 0) {
    throw new IntegrationError(`${where} has no container labelled ${labels.join(' and ')}`, {
      hint: `Is the compose project up? \`docker compose -p ${compose.project} ps ${compose.service}\``,
    });
  }
  return containers;
}

function parseContainerList(body: string): Container[] | undefined {
  let list: unknown;
  try {
    list = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(list)) return undefined;
  return list.flatMap((item: unknown) => {
    if (!item || typeof item !== 'object' || !('Id' in item) || typeof item.Id !== 'string') return [];
    const names = 'Names' in item && Array.isArray(item.Names) ? item.Names.filter((n): n is string => typeof n === 'string') : [];
    return [{ id: item.Id, name: (names[0] ?? item.Id.slice(0, 12)).replace(/^\//, '') }];
  });
}

/** Docker answers errors as `{"message": "..."}`. */
function dockerMessage(answer: HttpAnswer): string {
  try {
    const parsed: unknown = JSON.parse(answer.body);
    if (parsed && typeof parsed === 'object' && 'message' in parsed && typeof parsed.message === 'string') {
      return `${excerpt(parsed.message, 200)} (HTTP ${answer.status})`;
    }
  } catch {
    // Not JSON: a proxy's error page, say.
  }
  return `HTTP ${answer.status}${answer.body.trim() ? ` ${excerpt(answer.body, 120)}` : ''}`;
}

function transportFailure(
  error: unknown,
  ctx: { where: string; what: string; host: string; restarted: readonly string[]; deadline: Deadline },
): IntegrationError {
  if (error instanceof RequestAborted) {
    return new IntegrationError(`${ctx.where} ${ctx.deadline.why() ?? 'was cancelled'} while trying to ${ctx.what}${partial(ctx.restarted)}`, {
      cause: error,
    });
  }
  const code = errorCode(error);
  const unix = ctx.host.startsWith('unix:');
  const hint =
    unix && code === 'EACCES'
      ? "Add the bot's user to the docker group (or give it access to the socket), then restart the bot."
      : unix && (code === 'ENOENT' || code === 'ECONNREFUSED')
        ? 'Is Docker running, and is its socket mounted into the bot’s container?'
        : code === 'ECONNREFUSED'
          ? 'Is dockerd listening on TCP (`-H tcp://…` in its service definition)?'
          : undefined;
  return new IntegrationError(`${ctx.where} ${describeSocketProblem(error)}${partial(ctx.restarted)}`, {
    cause: error,
    ...(hint ? { hint } : {}),
  });
}

function dockerEndpoint(host: string): HttpEndpoint {
  const url = new URL(host);
  if (url.protocol === 'unix:') return { baseUrl: new URL('http://localhost'), socketPath: socketPathOf(url) };
  return { baseUrl: new URL(`http://${url.host}`) };
}

function partial(restarted: readonly string[]): string {
  return restarted.length > 0 ? ` (already restarted: ${restarted.join(', ')})` : '';
}

function describeCount(count: number): string {
  return count === 1 ? '1 container' : `${count} containers`;
}
