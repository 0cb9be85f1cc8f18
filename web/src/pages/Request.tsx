import { Note } from "../components/ui";

export default function RequestPage() {
  return <Note>Request: not built yet.</Note>;
}
