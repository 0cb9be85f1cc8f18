import { Note } from "../components/ui";

export default function ComparePage() {
  return <Note>Compare: not built yet.</Note>;
}
