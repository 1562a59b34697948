import { Link2Off, RefreshCw } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { describeProblem } from "../../api/problem";
import type { BotView } from "../../api/types";
import { Dialog } from "../../components/Dialog";
import { Button } from "../../components/ui";
import { getBot, rotateShareLink } from "./api";
import { SHARING_LABELS, type SharingMode } from "./form";
import { CopyButton, Section } from "./ui";

/** The bot's share link: copy it, replace it, or stop sharing. */
export function ShareSection({
  bot,
  onRotated,
  onSharing,
}: {
  bot: BotView;
  onRotated: (bot: BotView) => void;
  onSharing: (mode: SharingMode) => Promise<void>;
}) {
  const [confirm, setConfirm] = useState<"rotate" | "off" | null>(null);
  const [busy, setBusy] = useState(false);
  const shared = bot.sharing.mode !== "private";

  const rotate = async () => {
    setBusy(true);
    try {
      await rotateShareLink(bot.chatConfigId);
      // The new link bumps nothing the form holds, but the page shows the bot as stored.
      onRotated(await getBot(bot.chatConfigId));
      toast.success("New link made: the old one no longer works.");
    } catch (e) {
      toast.error(describeProblem(e));
    } finally {
      setBusy(false);
      setConfirm(null);
    }
  };

  const off = async () => {
    setBusy(true);
    await onSharing("private");
    setBusy(false);
    setConfirm(null);
  };

  return (
    <Section title="Share">
      {shared ? (
        <>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            {SHARING_LABELS[bot.sharing.mode]} can chat with this bot.
          </p>
          <div className="flex flex-col gap-2">
            <label htmlFor="share-link" className="text-sm font-medium">
              Share link
            </label>
            <input
              id="share-link"
              readOnly
              value={bot.shareableUrl}
              onFocus={(e) => e.currentTarget.select()}
              className="min-h-11 w-full rounded-lg border border-zinc-300 bg-zinc-50 px-3 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-950"
            />
          </div>
          <div className="flex flex-wrap gap-3">
            <CopyButton text={bot.shareableUrl} label="Copy link" done="Link copied" />
            <Button variant="secondary" onClick={() => setConfirm("rotate")}>
              <RefreshCw className="size-4" aria-hidden="true" />
              New link
            </Button>
            <Button variant="ghost" onClick={() => setConfirm("off")}>
              <Link2Off className="size-4" aria-hidden="true" />
              Stop sharing
            </Button>
          </div>
        </>
      ) : (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          Sharing is off: only you can chat with this bot. Pick who may chat with it under Sharing below and
          save.
        </p>
      )}
      <Dialog open={confirm === "rotate"} title="Make a new link?" onClose={() => setConfirm(null)}>
        <p className="text-sm">
          The current link stops working at once: people who have it can no longer start chats, and their open
          chats end. Send the new link to those who should keep access.
        </p>
        <div className="mt-6 flex justify-end gap-3">
          <Button variant="secondary" onClick={() => setConfirm(null)}>
            Cancel
          </Button>
          <Button onClick={() => void rotate()} disabled={busy}>
            Make a new link
          </Button>
        </div>
      </Dialog>
      <Dialog open={confirm === "off"} title="Stop sharing?" onClose={() => setConfirm(null)}>
        <p className="text-sm">
          Only you will be able to chat with the bot. The link stops working, and chats others started on it
          end.
        </p>
        <div className="mt-6 flex justify-end gap-3">
          <Button variant="secondary" onClick={() => setConfirm(null)}>
            Cancel
          </Button>
          <Button variant="danger" onClick={() => void off()} disabled={busy}>
            Stop sharing
          </Button>
        </div>
      </Dialog>
    </Section>
  );
}
