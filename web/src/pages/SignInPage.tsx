import { FlaskConical, LogIn } from "lucide-react";
import { type FormEvent, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { describeProblem } from "../api/problem";
import { devSignIn } from "../auth/session";
import { useAuth } from "../auth/useAuth";
import { Button, Card, ErrorNote, inputClass } from "../components/ui";
import { config } from "../config";
import { safeNext } from "../lib/nav";

export default function SignInPage() {
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [groups, setGroups] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const local = config().mode === "local";
  const auth = useAuth();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const list = groups
        .split(",")
        .map((g) => g.trim())
        .filter(Boolean);
      await devSignIn(email.trim(), list);
      navigate(next, { replace: true });
    } catch (err) {
      setError(describeProblem(err));
    } finally {
      setBusy(false);
    }
  }

  async function cloud() {
    setBusy(true);
    const { cloudSignIn } = await import("../auth/oidc");
    await cloudSignIn(next).catch(() => {
      setError("The sign-in service cannot be reached. Try again in a moment.");
      setBusy(false);
    });
  }

  return (
    <main className="flex min-h-dvh items-start justify-center bg-zinc-50 p-4 pt-16 dark:bg-zinc-950">
      <Card className="w-full max-w-md">
        <h1 className="text-2xl font-semibold">Sign in to Parley</h1>
        {auth && (
          <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">
            You are signed in as {auth.email}.{" "}
            <Link to={next} className="text-accent underline dark:text-indigo-300">
              Continue
            </Link>{" "}
            or sign in as someone else.
          </p>
        )}
        {local ? (
          <>
            <div className="mt-4 flex gap-3 rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
              <FlaskConical className="mt-0.5 size-5 shrink-0" aria-hidden="true" />
              <p>
                <strong>Local development sign-in.</strong> No password: anyone who can reach this server can
                sign in as anyone. It exists only on a local Parley.
              </p>
            </div>
            <form onSubmit={submit} className="mt-6 flex flex-col gap-4">
              <label className="flex flex-col gap-1 text-sm font-medium">
                Email
                <input
                  type="email"
                  required
                  autoComplete="email"
                  value={email}
                  onChange={(e) => setEmail(e.target.value)}
                  className={inputClass}
                  placeholder="alice@example.com"
                />
              </label>
              <label className="flex flex-col gap-1 text-sm font-medium">
                Groups{" "}
                <span className="font-normal text-zinc-600 dark:text-zinc-400">
                  (optional, comma-separated)
                </span>
                <input
                  value={groups}
                  onChange={(e) => setGroups(e.target.value)}
                  className={inputClass}
                  placeholder="admin, tier-pro"
                />
              </label>
              {error && <ErrorNote>{error}</ErrorNote>}
              <Button type="submit" disabled={busy || !email.trim()}>
                <LogIn className="size-4" aria-hidden="true" />
                Sign in
              </Button>
            </form>
          </>
        ) : (
          <div className="mt-6 flex flex-col gap-4">
            <p className="text-zinc-600 dark:text-zinc-400">
              You will sign in on Parley's secure sign-in page.
            </p>
            {error && <ErrorNote>{error}</ErrorNote>}
            <Button onClick={() => void cloud()} disabled={busy}>
              <LogIn className="size-4" aria-hidden="true" />
              Continue to sign in
            </Button>
          </div>
        )}
      </Card>
    </main>
  );
}
