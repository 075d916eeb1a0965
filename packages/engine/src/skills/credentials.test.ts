import { describe, expect, it } from 'vitest';
import { credentialEnvName, envCredentials } from '../context/defaults.js';

const signal = new AbortController().signal;

describe('credentialEnvName', () => {
  it('upper-cases the name and turns anything but letters and digits into "_"', () => {
    expect(credentialEnvName('api.key')).toBe('LOOM_CREDENTIAL_API_KEY');
    expect(credentialEnvName('github-token')).toBe('LOOM_CREDENTIAL_GITHUB_TOKEN');
    expect(credentialEnvName('Stripe_Live2')).toBe('LOOM_CREDENTIAL_STRIPE_LIVE2');
  });
});

describe('envCredentials', () => {
  const env = { LOOM_CREDENTIAL_API_KEY: 'k-1', LOOM_CREDENTIAL_EMPTY: '', API_KEY: 'not this one' };

  it('reads LOOM_CREDENTIAL_<NAME>', async () => {
    await expect(envCredentials(env).get('api.key', signal)).resolves.toBe('k-1');
    await expect(envCredentials(env).get('API-KEY', signal)).resolves.toBe('k-1');
  });

  it('rejects an unset or empty variable with a message naming the credential and the variable', async () => {
    await expect(envCredentials(env).get('missing', signal)).rejects.toThrow('credential "missing" is not set (environment variable LOOM_CREDENTIAL_MISSING)');
    await expect(envCredentials(env).get('empty', signal)).rejects.toThrow('credential "empty" is not set (environment variable LOOM_CREDENTIAL_EMPTY)');
  });
});
