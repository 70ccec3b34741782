// The one backend factory (CLI, env server, MCP and operator). Cluster backends load lazily so cluster-free commands
// never import the Kubernetes client.
import { phasedFromBackend, type Backend, type BackendName, type PhasedBackend } from '../arena/backend.js';
import type { KwokOptions } from './kwok/index.js';
import type { BackendOptions } from './options.js';
import type { SimkubeOptions } from './simkube/index.js';

export const BACKENDS: BackendName[] = ['embedded', 'kwok', 'simkube'];

/** Everything any backend can be configured with; each takes what applies to it. */
export type AnyBackendOptions = BackendOptions & KwokOptions & SimkubeOptions;

export function parseBackendName(s: string): BackendName {
  if ((BACKENDS as string[]).includes(s)) return s as BackendName;
  throw new RangeError(`unknown backend "${s}" (use ${BACKENDS.join(', ')})`);
}

/** A backend that runs a whole replay per call (the CLI, env server and MCP drive episodes this way). */
export async function createBackend(name: BackendName, opts: AnyBackendOptions = {}): Promise<Backend> {
  switch (name) {
    case 'embedded': {
      const { EmbeddedBackend } = await import('./embedded/index.js');
      return new EmbeddedBackend();
    }
    case 'kwok': {
      const { createKwokBackend } = await import('./kwok/index.js');
      return createKwokBackend(opts);
    }
    case 'simkube': {
      const { createSimkubeBackend } = await import('./simkube/index.js');
      return createSimkubeBackend(opts);
    }
  }
}

/** The same backend driven in phases (start, poll, cleanup), as the operator does; embedded answers at once. */
export async function createPhasedBackend(name: BackendName, opts: AnyBackendOptions = {}): Promise<PhasedBackend> {
  const backend = await createBackend(name, opts);
  return isPhased(backend) ? backend : phasedFromBackend(backend);
}

function isPhased(b: Backend): b is Backend & PhasedBackend {
  const p = b as Partial<PhasedBackend>;
  return typeof p.start === 'function' && typeof p.poll === 'function' && typeof p.cleanup === 'function';
}
