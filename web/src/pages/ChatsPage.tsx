import { PageTitle } from "../components/ui";

export default function ChatsPage() {
  return (
    <div className="p-6">
      <PageTitle>My chats</PageTitle>
    </div>
  );
}
