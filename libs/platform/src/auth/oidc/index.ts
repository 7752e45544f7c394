export * from './jwks';
export * from './oidc-authenticator';
export * from './first-of';
export * from './local-oidc-issuer';
export * from './oidc-config';
