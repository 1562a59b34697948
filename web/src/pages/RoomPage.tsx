import { PageTitle } from "../components/ui";

/** Placeholder: web2 builds this page. */
export default function RoomPage() {
  return (
    <div className="mx-auto max-w-3xl p-6">
      <PageTitle>Room</PageTitle>
      <p className="mt-2 text-zinc-600 dark:text-zinc-400">Coming soon.</p>
    </div>
  );
}
