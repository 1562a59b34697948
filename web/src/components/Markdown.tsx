import { Check, Copy } from "lucide-react";
import { type ComponentProps, type ReactNode, useEffect, useState } from "react";
import ReactMarkdown, { defaultUrlTransform, type Options } from "react-markdown";
import remarkGfm from "remark-gfm";

// Syntax highlighting (highlight.js's common languages) is most of the Markdown code: it
// loads only once a message has a code block.
type Highlight = typeof import("rehype-highlight").default;
let highlight: Highlight | null = null;
let loading: Promise<Highlight> | null = null;
function loadHighlight(): Promise<Highlight> {
  loading ??= import("rehype-highlight").then((m) => {
    highlight = m.default;
    return m.default;
  });
  return loading;
}

function useHighlight(text: string): Highlight | null {
  // Functions in state go through updaters, or React would call them.
  const [plugin, setPlugin] = useState<Highlight | null>(() => highlight);
  const wanted = text.includes("```") || text.includes("~~~");
  useEffect(() => {
    if (wanted && !plugin) void loadHighlight().then((p) => setPlugin(() => p));
  }, [wanted, plugin]);
  return plugin;
}

/** The plain text of rendered children (for a code block's copy button). */
function textOf(node: ReactNode): string {
  if (typeof node === "string" || typeof node === "number") return String(node);
  if (Array.isArray(node)) return node.map(textOf).join("");
  if (node && typeof node === "object" && "props" in node) {
    return textOf((node.props as { children?: ReactNode }).children);
  }
  return "";
}

function CodeBlock({ children, ...props }: ComponentProps<"pre">) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="group/code relative">
      <pre {...props}>{children}</pre>
      <button
        type="button"
        aria-label="Copy code"
        onClick={() => {
          void navigator.clipboard?.writeText(textOf(children)).then(() => {
            setCopied(true);
            window.setTimeout(() => setCopied(false), 1500);
          });
        }}
        className="absolute top-1 right-1 inline-flex size-11 items-center justify-center rounded-md text-zinc-600 opacity-70 hover:bg-zinc-200 hover:opacity-100 focus-visible:opacity-100 dark:text-zinc-300 dark:hover:bg-zinc-700"
      >
        {copied ? (
          <Check className="size-4" aria-hidden="true" />
        ) : (
          <Copy className="size-4" aria-hidden="true" />
        )}
      </button>
    </div>
  );
}

/** Only http(s) and mailto links stay links; anything else (javascript:, data:) is dropped. */
export function safeUrl(url: string): string {
  const cleaned = defaultUrlTransform(url);
  return /^(https?:|mailto:)/i.test(cleaned) || cleaned.startsWith("#") ? cleaned : "";
}

/** A message's Markdown, safely: raw HTML is shown as text, never parsed; links open in a
 * new tab without the opener or a referrer; other URL schemes are dropped. */
export function Markdown({ text }: { text: string }) {
  const plugin = useHighlight(text);
  const rehypePlugins: Options["rehypePlugins"] = plugin ? [[plugin, { detect: false }]] : [];
  return (
    <div className="prose-chat">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={rehypePlugins}
        skipHtml={false}
        urlTransform={safeUrl}
        components={{
          a: ({ href, children }) =>
            href ? (
              <a href={href} target="_blank" rel="noopener noreferrer">
                {children}
              </a>
            ) : (
              <span>{children}</span>
            ),
          img: ({ alt }) => <span>{alt ? `[image: ${alt}]` : "[image]"}</span>,
          pre: CodeBlock,
        }}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
