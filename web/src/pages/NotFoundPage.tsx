import { Link } from "react-router";
import { buttonClass, Card } from "../components/ui";

export function NotFoundCard({
  title = "Not found",
  children,
}: {
  title?: string;
  children?: React.ReactNode;
}) {
  return (
    <Card className="mx-auto w-full max-w-md text-center">
      <h1 className="text-xl font-semibold">{title}</h1>
      <p className="mt-2 text-zinc-600 dark:text-zinc-400">
        {children ?? "There is nothing here. The link may be old or mistyped."}
      </p>
      <Link to="/" className={`${buttonClass("secondary")} mt-6`}>
        Go to the start page
      </Link>
    </Card>
  );
}

export default function NotFoundPage() {
  return (
    <div className="p-6 pt-16">
      <NotFoundCard />
    </div>
  );
}
