export {
  CredentialDecryptError,
  decryptSecret,
  encryptSecret,
  loadSecretKey,
  SECRET_KEY_BYTES,
  SecretKeyError,
  type LoadedSecretKey,
  type LoadSecretKeyOptions,
} from './crypto.js';
