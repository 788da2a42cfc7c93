import { LoginForm } from '../features/auth/components/LoginForm';

/** Shown whenever there is no session (any route). */
export function LoginPage() {
  return (
    <main className="login-page">
      <LoginForm />
    </main>
  );
}
