import { expect } from 'chai';
import { ApiException } from '@kubernetes/client-node';
import {
  apiErrorCode,
  apiErrorMessage,
  apiErrorReason,
  isAlreadyExists,
  isConflict,
  isNotFound,
  isTransient,
} from '../../../src/kube/errors.js';
import { microTime } from '../../../src/kube/time.js';
import { resourcePath } from '../../../src/kube/request.js';
import { enqueueOwner, labelKey, objectKey, ownerKeys, splitKey } from '../../../src/controller/keys.js';

function status(code: number, reason: string, message: string): ApiException<string> {
  return new ApiException(
    code,
    'Unsuccessful HTTP Request',
    JSON.stringify({ kind: 'Status', status: 'Failure', code, reason, message }),
    {},
  );
}

describe('kube error helpers', () => {
  it('reads code, reason and message from an ApiException whose body is a JSON string', () => {
    const err = status(
      409,
      'Conflict',
      'Operation cannot be fulfilled on configmaps "x": the object has been modified',
    );
    expect(apiErrorCode(err)).to.equal(409);
    expect(apiErrorReason(err)).to.equal('Conflict');
    expect(apiErrorMessage(err)).to.equal(
      '409: Operation cannot be fulfilled on configmaps "x": the object has been modified',
    );
    expect(isConflict(err)).to.equal(true);
    expect(isAlreadyExists(err)).to.equal(false);
    expect(isNotFound(err)).to.equal(false);
  });

  it('tells AlreadyExists apart from a resourceVersion conflict', () => {
    const err = status(409, 'AlreadyExists', 'leases "l" already exists');
    expect(isAlreadyExists(err)).to.equal(true);
    expect(isConflict(err)).to.equal(false);
  });

  it('recognises 404', () => {
    expect(isNotFound(status(404, 'NotFound', 'configmaps "x" not found'))).to.equal(true);
  });

  it('copes with non-JSON bodies, already-parsed bodies and watch errors', () => {
    const html = new ApiException(502, 'Unsuccessful HTTP Request', '<html>Bad Gateway</html>', {});
    expect(apiErrorMessage(html)).to.equal('502: <html>Bad Gateway</html>');
    expect(apiErrorReason(html)).to.equal(undefined);
    const parsed = new ApiException(422, 'x', { message: 'invalid', reason: 'Invalid' }, {});
    expect(apiErrorMessage(parsed)).to.equal('422: invalid');
    const watchErr = Object.assign(new Error('Gone'), { statusCode: 410 });
    expect(apiErrorCode(watchErr)).to.equal(410);
    expect(apiErrorMessage(watchErr)).to.equal('410: Gone');
    expect(apiErrorCode(new Error('plain'))).to.equal(undefined);
    expect(apiErrorMessage('text')).to.equal('text');
  });

  it('classifies transient failures', () => {
    expect(isTransient(status(429, 'TooManyRequests', 'slow down'))).to.equal(true);
    expect(isTransient(status(503, 'ServiceUnavailable', 'x'))).to.equal(true);
    expect(isTransient(status(409, 'Conflict', 'x'))).to.equal(false);
    expect(isTransient(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).to.equal(true);
    expect(isTransient(new Error('logic'))).to.equal(false);
  });
});

describe('kube paths and times', () => {
  it('builds core and group resource paths', () => {
    expect(resourcePath({ version: 'v1', resource: 'configmaps', namespace: 'ns', name: 'cm' })).to.equal(
      '/api/v1/namespaces/ns/configmaps/cm',
    );
    expect(resourcePath({ group: 'simarena.io', version: 'v1alpha1', resource: 'arenaepisodes' })).to.equal(
      '/apis/simarena.io/v1alpha1/arenaepisodes',
    );
    expect(
      resourcePath({
        group: 'simarena.io',
        version: 'v1alpha1',
        resource: 'arenaepisodes',
        namespace: 'a',
        name: 'e',
        subresource: 'status',
      }),
    ).to.equal('/apis/simarena.io/v1alpha1/namespaces/a/arenaepisodes/e/status');
  });

  it('writes MicroTime with exactly 6 fractional digits', () => {
    expect(microTime(new Date('2026-01-01T00:00:00.123Z'))).to.equal('2026-01-01T00:00:00.123000Z');
    expect(microTime()).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});

describe('controller/keys', () => {
  const owned = {
    metadata: {
      name: 'ep1-trace',
      namespace: 'arena',
      labels: { 'simarena.io/episode': 'ep1' },
      ownerReferences: [
        { apiVersion: 'simarena.io/v1alpha1', kind: 'ArenaEpisode', name: 'ep1', uid: 'u1', controller: true },
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'u2' },
        { apiVersion: 'other.io/v1', kind: 'ArenaEpisode', name: 'foreign', uid: 'u3' },
      ],
    },
  };

  it('makes and splits namespace/name keys', () => {
    expect(objectKey({ metadata: { name: 'a', namespace: 'n' } })).to.equal('n/a');
    expect(objectKey({ metadata: { name: 'node1' } })).to.equal('node1');
    expect(splitKey('n/a')).to.deep.equal({ namespace: 'n', name: 'a' });
    expect(splitKey('node1')).to.deep.equal({ name: 'node1' });
  });

  it('maps owned objects to their owner keys', () => {
    expect(ownerKeys(owned, { kind: 'ArenaEpisode', group: 'simarena.io' })).to.deep.equal(['arena/ep1']);
    expect(ownerKeys(owned, { kind: 'ArenaEpisode' })).to.deep.equal(['arena/ep1', 'arena/foreign']);
    expect(ownerKeys(owned, { kind: 'Deployment', group: 'apps', controllerOnly: true })).to.deep.equal([]);
    expect(labelKey(owned, 'simarena.io/episode')).to.equal('arena/ep1');
    expect(labelKey(owned, 'missing')).to.equal(undefined);
  });

  it('enqueueOwner falls back to the label when there is no owner reference', () => {
    const keys: string[] = [];
    const handler = enqueueOwner((k) => keys.push(k), {
      kind: 'ArenaEpisode',
      group: 'simarena.io',
      label: 'simarena.io/episode',
    });
    handler(owned);
    handler({ metadata: { name: 'pod', namespace: 'virtual-arena', labels: { 'simarena.io/episode': 'ep2' } } });
    expect(keys).to.deep.equal(['arena/ep1', 'virtual-arena/ep2']);
  });
});
