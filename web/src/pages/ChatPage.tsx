import { PageTitle } from "../components/ui";

export default function ChatPage() {
  return (
    <div className="p-6">
      <PageTitle>Chat</PageTitle>
    </div>
  );
}
