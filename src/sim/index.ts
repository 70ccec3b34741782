// Backend factory. Cluster backends load lazily so cluster-free commands never import the Kubernetes client.
import type { Backend, BackendName } from '../arena/backend.js';
import type { BackendOptions } from './options.js';


export const BACKENDS: BackendName[] = ['embedded', 'kwok', 'simkube'];

export function parseBackendName(s: string): BackendName {
  if ((BACKENDS as string[]).includes(s)) return s as BackendName;
  throw new RangeError(`unknown backend "${s}" (use ${BACKENDS.join(', ')})`);
}

export async function createBackend(name: BackendName, opts: BackendOptions = {}): Promise<Backend> {
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
