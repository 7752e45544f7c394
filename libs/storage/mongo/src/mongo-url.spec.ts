import { redactMongoUrl, scrubCredentials } from './mongo-url';

describe('redactMongoUrl', () => {
  it.each([
    ['mongodb://127.0.0.1:27017', 'mongodb://127.0.0.1:27017'],
    [
      'mongodb://svc:s3cret@db-0:27017,db-1:27017/mandate?replicaSet=rs0',
      'mongodb://***@db-0:27017,db-1:27017/mandate?replicaSet=rs0',
    ],
    [
      'mongodb+srv://svc:p%40ss@cluster.example.net/?retryWrites=true',
      'mongodb+srv://***@cluster.example.net/?retryWrites=true',
    ],
    ['mongodb://onlyuser@h/', 'mongodb://***@h/'],
    [
      'mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:abc&tlsCertificateKeyFilePassword=pw',
      'mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=***&tlsCertificateKeyFilePassword=***',
    ],
    ['not a url with secret', '<unparseable mongodb url>'],
  ])('redacts %s', (url, expected) => {
    expect(redactMongoUrl(url)).toBe(expected);
  });

  it('handles a password containing @', () => {
    expect(redactMongoUrl('mongodb://u:p@ss@h:1/db')).toBe('mongodb://***@h:1/db');
  });
});

describe('scrubCredentials', () => {
  it('masks the user and password (raw and decoded) wherever they appear', () => {
    const url = 'mongodb://svc-user:p%40ssw0rd@h:1';
    expect(scrubCredentials('auth failed for svc-user with p@ssw0rd / p%40ssw0rd', url)).toBe(
      'auth failed for *** with *** / ***',
    );
    expect(scrubCredentials('nothing here', 'mongodb://h:1')).toBe('nothing here');
  });
});
