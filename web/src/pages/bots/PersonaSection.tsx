import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Eye, EyeOff, Trash2, Upload } from "lucide-react";
import { useRef, useState } from "react";
import { toast } from "sonner";
import { describeProblem } from "../../api/problem";
import { Dialog } from "../../components/Dialog";
import { Button, ErrorNote, Spinner } from "../../components/ui";
import { deletePersona, getPersona, listPersona, type PersonaInfo, putPersona } from "./api";
import { PERSONA_KINDS, type PersonaKind, personaText } from "./form";
import { Section } from "./ui";

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} bytes` : `${(bytes / 1024).toFixed(1)} kB`;
}

/** The bot's persona documents: upload, read the text the model gets, delete. */
export function PersonaSection({ botId }: { botId: string }) {
  const queryClient = useQueryClient();
  const key = ["persona", botId];
  const list = useQuery({ queryKey: key, queryFn: () => listPersona(botId) });
  const byKind = new Map<PersonaKind, PersonaInfo>((list.data?.items ?? []).map((p) => [p.kind, p]));
  const total = [...byKind.values()].reduce((n, p) => n + p.estimatedTokens, 0);

  return (
    <Section title="Persona">
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        Documents the bot reads on every call, to answer as a person would. Each costs part of the memory
        budget{byKind.size ? `: about ${total} tokens in all` : ""}.
      </p>
      {list.isPending ? (
        <Spinner />
      ) : list.error ? (
        <ErrorNote>{describeProblem(list.error)}</ErrorNote>
      ) : (
        <ul className="flex flex-col divide-y divide-zinc-200 dark:divide-zinc-800">
          {PERSONA_KINDS.map((k) => (
            <PersonaRow
              key={k.kind}
              botId={botId}
              spec={k}
              info={byKind.get(k.kind)}
              onChange={() => {
                void queryClient.invalidateQueries({ queryKey: key });
                void queryClient.invalidateQueries({ queryKey: ["persona-text", botId, k.kind] });
              }}
            />
          ))}
        </ul>
      )}
    </Section>
  );
}

function PersonaRow({
  botId,
  spec,
  info,
  onChange,
}: {
  botId: string;
  spec: (typeof PERSONA_KINDS)[number];
  info?: PersonaInfo;
  onChange: () => void;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [showText, setShowText] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const text = useQuery({
    queryKey: ["persona-text", botId, spec.kind],
    queryFn: () => getPersona(botId, spec.kind),
    enabled: showText && !!info,
  });

  const upload = async (file: File) => {
    setBusy(true);
    setError(null);
    try {
      await putPersona(botId, spec.kind, file, spec.contentType);
      toast.success(`${spec.label} uploaded`);
      onChange();
    } catch (e) {
      setError(describeProblem(e));
    } finally {
      setBusy(false);
      if (input.current) input.current.value = "";
    }
  };

  const remove = async () => {
    setConfirm(false);
    try {
      await deletePersona(botId, spec.kind);
      setShowText(false);
      toast.success(`${spec.label} deleted`);
      onChange();
    } catch (e) {
      setError(describeProblem(e));
    }
  };

  const inputId = `persona-${spec.kind}`;
  return (
    <li className="flex flex-col gap-3 py-4" data-kind={spec.kind}>
      <div className="flex flex-col gap-3 sm:flex-row sm:items-start sm:justify-between">
        <div className="min-w-0">
          <h3 className="font-medium">{spec.label}</h3>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">{spec.hint}</p>
          <p className="mt-1 text-sm" data-testid={`persona-${spec.kind}-status`}>
            {info
              ? `About ${info.estimatedTokens} tokens · ${size(info.textBytes)} of text${
                  info.pdfBytes ? ` from a ${size(info.pdfBytes)} PDF` : ""
                } · updated ${new Date(info.updatedAt).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}`
              : "Not uploaded"}
          </p>
        </div>
        <div className="flex shrink-0 flex-wrap gap-2">
          <input
            ref={input}
            id={inputId}
            type="file"
            accept={spec.accept}
            className="sr-only"
            tabIndex={-1}
            aria-label={`${spec.label} file`}
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) void upload(file);
            }}
          />
          <Button variant="secondary" disabled={busy} onClick={() => input.current?.click()}>
            <Upload className="size-4" aria-hidden="true" />
            {info ? `Replace ${spec.label.toLowerCase()}` : `Upload ${spec.label.toLowerCase()}`}
          </Button>
          {info && (
            <>
              <Button
                variant="ghost"
                aria-expanded={showText}
                aria-controls={`${inputId}-text`}
                onClick={() => setShowText((s) => !s)}
              >
                {showText ? (
                  <EyeOff className="size-4" aria-hidden="true" />
                ) : (
                  <Eye className="size-4" aria-hidden="true" />
                )}
                {showText ? "Hide text" : "Show text"}
                <span className="sr-only"> of {spec.label.toLowerCase()}</span>
              </Button>
              <Button
                variant="ghost"
                onClick={() => setConfirm(true)}
                aria-label={`Delete ${spec.label.toLowerCase()}`}
              >
                <Trash2 className="size-4" aria-hidden="true" />
                Delete
              </Button>
            </>
          )}
        </div>
      </div>
      {error && <ErrorNote>{error}</ErrorNote>}
      {showText && info && (
        <section id={`${inputId}-text`} aria-label={`${spec.label} text`}>
          {text.isPending ? (
            <Spinner />
          ) : text.error ? (
            <ErrorNote>{describeProblem(text.error)}</ErrorNote>
          ) : (
            <pre
              // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus
              tabIndex={0}
              className="max-h-72 overflow-auto whitespace-pre-wrap rounded-lg bg-zinc-100 p-3 text-sm dark:bg-zinc-950"
            >
              {personaText(text.data?.content)}
            </pre>
          )}
        </section>
      )}
      <Dialog
        open={confirm}
        title={`Delete the ${spec.label.toLowerCase()}?`}
        onClose={() => setConfirm(false)}
      >
        <p className="text-sm">The bot stops reading it from its next reply on.</p>
        <div className="mt-6 flex justify-end gap-3">
          <Button variant="secondary" onClick={() => setConfirm(false)}>
            Cancel
          </Button>
          <Button variant="danger" onClick={() => void remove()}>
            Delete
          </Button>
        </div>
      </Dialog>
    </li>
  );
}
