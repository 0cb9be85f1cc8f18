import { Note } from "../components/ui";

export default function ModelPage() {
  return <Note>Model: not built yet.</Note>;
}
