import type { Grade } from '../../../server/scan/types';
import { gradeFamily } from '../lib/grades';

export function GradeBadge(props: { grade: Grade | null; large?: boolean }) {
  const family = () => (props.grade ? `grade-${gradeFamily(props.grade)}` : '');
  return (
    <span
      class={`grade ${family()}`}
      classList={{ large: props.large === true }}
      role="img"
      aria-label={props.grade ? `Grade ${props.grade}` : 'Not graded yet'}
      title={props.grade ? `Grade ${props.grade}` : 'Not graded yet'}
    >
      {props.grade ?? '–'}
    </span>
  );
}
