import { useEffect, useState } from "react";
import { useNavigate } from "react-router";
import { ErrorNote, Spinner } from "../components/ui";

/** Where Cognito's managed login sends the browser back with the authorization code. */
export default function AuthCallbackPage() {
  const navigate = useNavigate();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    import("../auth/oidc")
      .then(({ cloudCallback }) => cloudCallback())
      .then((to) => navigate(to, { replace: true }))
      .catch(() => setFailed(true));
  }, [navigate]);
  return (
    <main className="mx-auto max-w-md p-6 pt-16">
      {failed ? (
        <ErrorNote>Signing in did not work. Please try again.</ErrorNote>
      ) : (
        <Spinner label="Signing you in…" />
      )}
    </main>
  );
}
