import { useState } from 'preact/hooks';
import * as api from '../api.js';
import { t } from '../i18n.js';

export function SignIn({ onSignedIn }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const me = await api.signIn(token);
      setToken('');  // the session holds it now; the page keeps nothing
      onSignedIn(me);
    } catch (err) {
      setError(err.code === 'resource_exhausted' ? t('signin.tooMany') : t('signin.refused'));
    }
  };
  return (
    <form class="card signin" onSubmit={submit}>
      <h1>{t('signin.title')}</h1>
      <p>{t('signin.explain')}</p>
      <label for="token">{t('signin.token')}</label>
      <input id="token" type="password" autocomplete="off" value={token}
             onInput={(e) => setToken(e.target.value)} required />
      <button type="submit" id="signin">{t('signin.submit')}</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}
