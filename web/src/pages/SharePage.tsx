import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link2, MessageCircle } from "lucide-react";
import { Link, useNavigate, useParams } from "react-router";
import { toast } from "sonner";
import { api } from "../api/client";
import { ApiProblem, describeProblem } from "../api/problem";
import type { PublicBot, StartedSession } from "../api/types";
import { guestSessionFor, saveGuest } from "../auth/store";
import { useAuth } from "../auth/useAuth";
import { Markdown } from "../components/Markdown";
import { Button, buttonClass, Card, ErrorNote, Spinner } from "../components/ui";
import { NotFoundCard } from "./NotFoundPage";

/** `/s/{code}`: the bot's public page, and the way into a chat with it. */
export default function SharePage() {
  const { code = "" } = useParams();
  const auth = useAuth();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const bot = useQuery({
    queryKey: ["share", code],
    queryFn: () => api<PublicBot>(`/share/${encodeURIComponent(code)}`, { token: null }),
    retry: (count, error) => !(error instanceof ApiProblem && error.status < 500) && count < 1,
  });
  const earlier = auth ? null : guestSessionFor(code);
  const start = useMutation({
    mutationFn: () =>
      api<StartedSession>("/chat-session", {
        method: "POST",
        body: { shareCode: code },
        token: auth ? auth.idToken : null,
      }),
    onSuccess: (session) => {
      if (session.guestToken) saveGuest(session.sessionId, session.guestToken, code);
      void queryClient.invalidateQueries({ queryKey: ["sessions"] });
      navigate(`/chat/${session.sessionId}`);
    },
  });

  let content: React.ReactNode;
  if (bot.isPending) {
    content = <Spinner />;
  } else if (bot.error) {
    content =
      bot.error instanceof ApiProblem && bot.error.code === "not_found" ? (
        <NotFoundCard title="This link was not found">
          The bot may have been deleted, or its owner changed or turned off its share link. Ask them for a new
          one.
        </NotFoundCard>
      ) : (
        <Card className="w-full max-w-lg">
          <ErrorNote>{describeProblem(bot.error)}</ErrorNote>
        </Card>
      );
  } else {
    const b = bot.data;
    content = (
      <Card className="w-full max-w-lg">
        <div className="flex items-start gap-4">
          <span className="inline-flex size-12 shrink-0 items-center justify-center rounded-xl bg-accent/10 text-accent dark:bg-accent/20 dark:text-indigo-300">
            <MessageCircle className="size-6" aria-hidden="true" />
          </span>
          <div className="min-w-0 flex-1">
            <h1 className="text-2xl font-semibold break-words">{b.title}</h1>
            <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">Model: {b.model}</p>
          </div>
          <button
            type="button"
            aria-label="Copy link"
            title="Copy link"
            onClick={() =>
              void navigator.clipboard
                ?.writeText(window.location.href)
                .then(() => toast.success("Link copied"))
                .catch(() => toast.error("Copying is not allowed here"))
            }
            className="inline-flex size-11 shrink-0 items-center justify-center rounded-lg text-zinc-600 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-800"
          >
            <Link2 className="size-5" aria-hidden="true" />
          </button>
        </div>
        {b.description && <p className="mt-4 whitespace-pre-wrap break-words">{b.description}</p>}
        {b.greeting && (
          <blockquote className="mt-4 rounded-xl bg-zinc-100 p-4 dark:bg-zinc-800">
            <Markdown text={b.greeting} />
          </blockquote>
        )}
        {b.systemPrompt && (
          <details className="mt-4 text-sm">
            <summary className="min-h-11 cursor-pointer py-2 font-medium">The bot's instructions</summary>
            <p className="whitespace-pre-wrap break-words text-zinc-700 dark:text-zinc-300">
              {b.systemPrompt}
            </p>
          </details>
        )}
        {start.error && (
          <div className="mt-4">
            <ErrorNote>{describeProblem(start.error)}</ErrorNote>
          </div>
        )}
        <div className="mt-6 flex flex-col gap-3 sm:flex-row">
          {earlier ? (
            <Link to={`/chat/${earlier}`} className={`${buttonClass("primary")} flex-1`}>
              Continue your chat
            </Link>
          ) : null}
          <Button
            variant={earlier ? "secondary" : "primary"}
            className="flex-1"
            onClick={() => start.mutate()}
            disabled={start.isPending}
          >
            {earlier ? "Start a new chat" : "Start chatting"}
          </Button>
          {!auth && (
            <Link
              to={`/sign-in?next=${encodeURIComponent(`/s/${code}`)}`}
              className={`${buttonClass("secondary")} flex-1`}
            >
              Sign in
            </Link>
          )}
        </div>
        <p className="mt-3 text-center text-xs text-zinc-600 dark:text-zinc-400">
          {auth ? `Chatting as ${auth.email}.` : "No account needed: you chat as a guest on this browser."}
        </p>
      </Card>
    );
  }
  return (
    <main className="flex min-h-dvh items-start justify-center bg-zinc-50 p-4 pt-16 dark:bg-zinc-950">
      {content}
    </main>
  );
}
