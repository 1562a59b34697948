import { Link, Navigate } from "react-router";
import { useAuth } from "../auth/useAuth";
import { buttonClass, Card } from "../components/ui";

export default function HomePage() {
  const auth = useAuth();
  if (auth) return <Navigate to="/bots" replace />;
  return (
    <div className="p-6 pt-16">
      <Card className="mx-auto max-w-md text-center">
        <h1 className="text-2xl font-semibold">Welcome to Parley</h1>
        <p className="mt-2 text-zinc-600 dark:text-zinc-400">
          Make your own AI bots, share them with a link, and chat with friends in rooms.
        </p>
        <Link to="/sign-in" className={`${buttonClass("primary")} mt-6`}>
          Sign in
        </Link>
      </Card>
    </div>
  );
}
